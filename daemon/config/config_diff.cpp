// Pure helpers over a loaded Config: the stream list, a one-line summary, and the reload diff
// (driven by the key tables' reload column, so a new key is compared without extra code).
#include <algorithm>
#include <iterator>
#include <type_traits>

#include "config/config.hpp"
#include "config/config_keys.hpp"

namespace mdfeed {
namespace {

using namespace config_detail;

template <class T>
bool differs(const KeyDef<T>& k, const T& a, const T& b) {
  return std::visit(
      [&](auto member) {
        using M = std::decay_t<decltype(a.*member)>;
        // The feed list is compared feed by feed, and as streams.
        if constexpr (std::is_same_v<M, std::vector<FeedConfig>>)
          return false;
        else
          return !(a.*member == b.*member);
      },
      k.field);
}

template <class T>
void compare(const std::vector<KeyDef<T>>& table, const T& a, const T& b, const std::string& prefix,
             ConfigDiff& d) {
  for (const auto& k : table) {
    if (!differs(k, a, b)) continue;
    std::string key = prefix + std::string(k.path);
    if (k.reload == Reload::Restart) d.restart_needed.push_back(key);
    d.changed.push_back(std::move(key));
  }
}

std::vector<StreamKey> sorted_streams(const Config& cfg) {
  auto s = streams(cfg);
  std::sort(s.begin(), s.end());
  return s;
}

}  // namespace

std::vector<StreamKey> streams(const Config& cfg) {
  std::vector<StreamKey> out;
  for (const auto& f : cfg.feeds)
    for (const auto& sym : f.symbols)
      for (const auto& iv : f.intervals) out.push_back(StreamKey{f.name, sym, iv});
  return out;
}

std::string describe(const Config& cfg) {
  std::string feeds;
  for (const auto& f : cfg.feeds) {
    feeds += feeds.empty() ? "" : " ";
    feeds += f.name + "(" + f.exchange + " " + std::to_string(f.symbols.size()) + "x" +
             std::to_string(f.intervals.size()) + ")";
  }
  const std::size_t n_feeds = cfg.feeds.size();
  return std::to_string(n_feeds) + (n_feeds == 1 ? " feed, " : " feeds, ") +
         std::to_string(streams(cfg).size()) + " streams: " + feeds + "; shm " + cfg.shm_dir +
         " cap " + std::to_string(cfg.capacity) + "; log " + cfg.log_level + "; metrics " +
         (cfg.metrics_listen.empty() ? "off" : cfg.metrics_listen);
}

ConfigDiff diff(const Config& old_cfg, const Config& new_cfg) {
  ConfigDiff d;
  const auto before = sorted_streams(old_cfg);
  const auto after = sorted_streams(new_cfg);
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(d.added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(d.removed));

  compare(top_keys(), old_cfg, new_cfg, "", d);
  for (const auto& nf : new_cfg.feeds) {
    const auto of = std::find_if(old_cfg.feeds.begin(), old_cfg.feeds.end(),
                                 [&](const FeedConfig& f) { return f.name == nf.name; });
    if (of != old_cfg.feeds.end()) compare(feed_keys(), *of, nf, "feeds[" + nf.name + "].", d);
  }
  return d;
}

}  // namespace mdfeed
