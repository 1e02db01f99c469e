# Installs the pure-Python reader (client/python: package mdfeed + module wealthdata) where the
# system Python finds it. Included from the top-level CMakeLists.txt: include(MdfeedPython)
#
# The directory is computed at configure time by /usr/bin/python3 (never the python3 first on
# PATH, which may be another interpreter) for CMAKE_INSTALL_PREFIX:
#   /usr       -> lib/python3/dist-packages      (Debian's system site directory)
#   /usr/local -> lib/python3.X/dist-packages    (Debian's local site directory)
#   other      -> lib/python3.X/site-packages    (standard layout; needs PYTHONPATH)
# i.e. the interpreter's own site directory under the prefix when it has one. It is stored
# relative to the prefix, so `cmake --install --prefix DIR` and DESTDIR staging work too.
# Override with -DMDFEED_PYTHON_INSTALL_DIR=... (relative to the prefix, or absolute).

set(MDFEED_PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH
    "Python interpreter the mdfeed package is installed for")

set(_mdfeed_site_script [=[
import os, site, sys, sysconfig
prefix = os.path.normpath(sys.argv[1])
for d in site.getsitepackages():  # directly under PREFIX/lib: /usr/local/... is not /usr's
    rel = os.path.relpath(d, prefix)
    if rel.startswith("lib" + os.sep):
        print(rel); break
else:
    d = sysconfig.get_path("purelib", "posix_prefix", vars={"base": prefix, "platbase": prefix})
    print(os.path.relpath(d, prefix))
]=])

if(NOT MDFEED_PYTHON_INSTALL_DIR)
  execute_process(
    COMMAND ${MDFEED_PYTHON_EXECUTABLE} -I -c "${_mdfeed_site_script}" ${CMAKE_INSTALL_PREFIX}
    OUTPUT_VARIABLE _mdfeed_site OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _mdfeed_site_rc ERROR_VARIABLE _mdfeed_site_err)
  if(NOT _mdfeed_site_rc EQUAL 0 OR _mdfeed_site STREQUAL "")
    message(FATAL_ERROR "mdfeed: cannot compute the Python install dir with "
                        "${MDFEED_PYTHON_EXECUTABLE}: ${_mdfeed_site_err}")
  endif()
  set(MDFEED_PYTHON_INSTALL_DIR ${_mdfeed_site} CACHE STRING
      "Where the mdfeed Python package is installed (relative to the prefix, or absolute)")
endif()
message(STATUS "mdfeed: Python package -> ${MDFEED_PYTHON_INSTALL_DIR} "
               "(under ${CMAKE_INSTALL_PREFIX})")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/python/mdfeed
        DESTINATION ${MDFEED_PYTHON_INSTALL_DIR} COMPONENT python
        FILES_MATCHING PATTERN "*.py"
        PATTERN "__pycache__" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/client/python/wealthdata.py
        DESTINATION ${MDFEED_PYTHON_INSTALL_DIR} COMPONENT python)
