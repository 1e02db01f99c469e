# Installation and packaging (nlohmann/fmt shape). Two components:
#   Development  the header-only reader (mdfeed/*.hpp from client/ and shm/), a CMake package
#                (find_package(mdfeed) -> mdfeed::client) and a pkg-config module (mdfeed.pc)
#   Runtime      mdfeed and mdfeed-ctl, the systemd unit, sysusers.d, tmpfiles.d and the config
# Paths inside installed files (the unit's ExecStart=, the .pc prefix) are computed at install
# time, so `cmake --install build --prefix DIR` produces files that point into DIR.
include(CMakePackageConfigHelpers)

set(MDFEED_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/mdfeed" CACHE STRING
    "Where mdfeedConfig.cmake goes (header-only, so arch-independent share/)")
set(MDFEED_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Where mdfeed.pc goes")
# systemd searches <prefix>/lib/{systemd/system,tmpfiles.d,sysusers.d} for /usr and /usr/local;
# these are deliberately not CMAKE_INSTALL_LIBDIR (lib/x86_64-linux-gnu on Debian).
set(MDFEED_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING "systemd unit directory")
set(MDFEED_TMPFILESDIR "lib/tmpfiles.d" CACHE STRING "tmpfiles.d directory")
set(MDFEED_SYSUSERSDIR "lib/sysusers.d" CACHE STRING "sysusers.d directory")

# ---------------------------------------------------------------------- Development
# ring_writer.hpp, mapped_file_writer.hpp and doorbell_writer.hpp are left out: their
# implementation (mdfeed_shm) is the daemon's, not installed.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/include/ ${PROJECT_SOURCE_DIR}/shm/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development
        FILES_MATCHING PATTERN "*.hpp" PATTERN "ring_writer.hpp" EXCLUDE
        PATTERN "mapped_file_writer.hpp" EXCLUDE PATTERN "wake_scheduler.hpp" EXCLUDE
        PATTERN "doorbell_writer.hpp" EXCLUDE)

set_target_properties(mdfeed_layout PROPERTIES EXPORT_NAME layout)
install(TARGETS mdfeed_client mdfeed_layout EXPORT mdfeedTargets COMPONENT Development)
install(EXPORT mdfeedTargets NAMESPACE mdfeed:: DESTINATION ${MDFEED_INSTALL_CMAKEDIR}
        COMPONENT Development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mdfeedConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mdfeedConfig.cmake
                              INSTALL_DESTINATION ${MDFEED_INSTALL_CMAKEDIR})
# 0.x: a minor bump may change the API, so only the same minor version is compatible. The shm
# layout has its own version check at run time (IncompatibleLayout).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mdfeedConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion
                                 ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/mdfeedConfig.cmake ${PROJECT_BINARY_DIR}/mdfeedConfigVersion.cmake
        DESTINATION ${MDFEED_INSTALL_CMAKEDIR} COMPONENT Development)

# Install-time values for the code below; [[...]] blocks are evaluated by cmake --install,
# where CMAKE_INSTALL_PREFIX is the effective prefix (--prefix) and DESTDIR is honoured.
install(CODE "
  set(MDFEED_SRC \"${PROJECT_SOURCE_DIR}\")
  set(MDFEED_GEN \"${PROJECT_BINARY_DIR}/install-gen\")
  set(MDFEED_VERSION \"${PROJECT_VERSION}\")
  set(MDFEED_DESCRIPTION \"${PROJECT_DESCRIPTION}\")
  set(MDFEED_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(MDFEED_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(MDFEED_PKGCONFIGDIR \"${MDFEED_INSTALL_PKGCONFIGDIR}\")
  set(MDFEED_UNITDIR \"${MDFEED_SYSTEMD_UNITDIR}\")
" ALL_COMPONENTS)
install(CODE [[
  # A path relative to the prefix, or an absolute one as given.
  function(mdfeed_abs out path)
    if(IS_ABSOLUTE "${path}")
      set(${out} "${path}" PARENT_SCOPE)
    else()
      set(${out} "${CMAKE_INSTALL_PREFIX}/${path}" PARENT_SCOPE)
    endif()
  endfunction()
  mdfeed_abs(MDFEED_ABS_BINDIR "${MDFEED_BINDIR}")
  mdfeed_abs(MDFEED_ABS_INCLUDEDIR "${MDFEED_INCLUDEDIR}")
  # /usr installs its config in /etc (FHS); any other prefix keeps it inside: <prefix>/etc.
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" OR CMAKE_INSTALL_PREFIX STREQUAL "/")
    set(MDFEED_ABS_ETCDIR "/etc/mdfeed")
  else()
    set(MDFEED_ABS_ETCDIR "${CMAKE_INSTALL_PREFIX}/etc/mdfeed")
  endif()
  file(MAKE_DIRECTORY "${MDFEED_GEN}")
]] ALL_COMPONENTS)
install(CODE [[
  set(prefix "${CMAKE_INSTALL_PREFIX}")
  if(IS_ABSOLUTE "${MDFEED_INCLUDEDIR}")
    set(includedir "${MDFEED_INCLUDEDIR}")
  else()
    set(includedir "\${prefix}/${MDFEED_INCLUDEDIR}")
  endif()
  configure_file("${MDFEED_SRC}/cmake/mdfeed.pc.in" "${MDFEED_GEN}/mdfeed.pc" @ONLY)
  mdfeed_abs(dest "${MDFEED_PKGCONFIGDIR}")
  file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${MDFEED_GEN}/mdfeed.pc")
]] COMPONENT Development)

# ---------------------------------------------------------------------- Runtime
if(NOT MDFEED_BUILD_DAEMON)
  return()
endif()

foreach(exe mdfeed mdfeed-ctl)
  if(TARGET ${exe})
    install(TARGETS ${exe} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
  endif()
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/systemd/mdfeed.tmpfiles DESTINATION ${MDFEED_TMPFILESDIR}
        RENAME mdfeed.conf COMPONENT Runtime)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/mdfeed.sysusers DESTINATION ${MDFEED_SYSUSERSDIR}
        RENAME mdfeed.conf COMPONENT Runtime)

# The unit names /usr/bin/mdfeed and /etc/mdfeed/mdfeed.yaml; point them at this install.
install(CODE [[
  file(READ "${MDFEED_SRC}/systemd/mdfeed.service" unit)
  string(REPLACE "=/usr/bin/mdfeed " "=${MDFEED_ABS_BINDIR}/mdfeed " unit "${unit}")
  string(REPLACE " /etc/mdfeed/" " ${MDFEED_ABS_ETCDIR}/" unit "${unit}")
  file(WRITE "${MDFEED_GEN}/mdfeed.service" "${unit}")
  mdfeed_abs(dest "${MDFEED_UNITDIR}")
  file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${MDFEED_GEN}/mdfeed.service")
]] COMPONENT Runtime)

# The example config, unless the administrator already has one: a reinstall must not undo their
# edits, so the new version lands next to it as mdfeed.yaml.dist.
install(CODE [[
  if(EXISTS "$ENV{DESTDIR}${MDFEED_ABS_ETCDIR}/mdfeed.yaml")
    message(STATUS "Keeping existing ${MDFEED_ABS_ETCDIR}/mdfeed.yaml; new example as mdfeed.yaml.dist")
    file(INSTALL DESTINATION "${MDFEED_ABS_ETCDIR}" TYPE FILE
         FILES "${MDFEED_SRC}/config/mdfeed.yaml" RENAME mdfeed.yaml.dist)
  else()
    file(INSTALL DESTINATION "${MDFEED_ABS_ETCDIR}" TYPE FILE FILES "${MDFEED_SRC}/config/mdfeed.yaml")
  endif()
]] COMPONENT Runtime)
