// Loading: YAML text -> walk every mapping against the key tables -> environment overrides ->
// required keys and cross-key rules. Errors are collected, never thrown, so one run reports all.
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <type_traits>

#include "config/config.hpp"
#include "config/config_keys.hpp"
#include "config/config_values.hpp"

namespace mdfeed {

std::string ConfigError::str() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Environ process_environ() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Environ environ_from(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

namespace {

using namespace config_detail;
using namespace config_detail::load;

constexpr std::size_t kMaxFileBytes = 16u << 20;  // a config is a few KB; this stops /dev/zero

template <class T>
const KeyDef<T>* find_key(const std::vector<KeyDef<T>>& table, std::string_view path) {
  for (const auto& k : table)
    if (k.path == path) return &k;
  return nullptr;
}

// "shm" is a section because "shm.dir" exists.
template <class T>
bool is_section(const std::vector<KeyDef<T>>& table, const std::string& path) {
  const std::string prefix = path + ".";
  return std::any_of(table.begin(), table.end(),
                     [&](const auto& k) { return starts_with(k.path, prefix); });
}

// The names valid directly under `prefix` ("" = the top of the table).
template <class T>
std::vector<std::string_view> names_under(const std::vector<KeyDef<T>>& table,
                                          std::string_view prefix) {
  std::vector<std::string_view> out;
  for (const auto& k : table) {
    if (!starts_with(k.path, prefix)) continue;
    std::string_view rest = k.path.substr(prefix.size());
    rest = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
  }
  return out;
}

// A typo of a sibling, or a real key written at the wrong level.
template <class T>
std::string unknown_key_message(const std::vector<KeyDef<T>>& table, const std::string& prefix,
                                const std::string& name) {
  std::string msg = "unknown key " + quoted(prefix + name);
  if (const auto best = closest(name, names_under(table, prefix)); !best.empty())
    return msg + " (did you mean " + quoted(prefix + std::string(best)) + "?)";
  if constexpr (std::is_same_v<T, Config>) {
    if (find_key(feed_keys(), name) != nullptr)
      return msg + " (it belongs inside each entry of 'feeds')";
  }
  for (const auto& k : top_keys()) {
    const auto dot = k.path.rfind('.');
    if (dot != std::string_view::npos && k.path.substr(dot + 1) == name)
      return msg + " (did you mean " + quoted(k.path) + " at the top level?)";
  }
  return msg;
}

// Where each key of one mapping (the top level, or one feed) was set.
struct Seen {
  Loc self;  // the mapping itself
  std::map<std::string, Loc, std::less<>> keys;

  [[nodiscard]] Loc at(std::string_view key) const {
    const auto it = keys.find(key);
    return it == keys.end() ? self : it->second;
  }
};

class Loader {
 public:
  Loader(std::string_view name, RuleContext ctx) : diag_(std::string(name)), ctx_(std::move(ctx)) {}

  void load(std::string_view text, const Environ& env) {
    const auto root = parse(text);
    if (!root) return;
    top_.self = loc_of(root->Mark());
    walk_map(*root, "", top_keys(), cfg_, top_);
    apply_env(env);
    check_required(top_keys(), top_, "the config");
    for (const auto& s : feeds_seen_) check_required(feed_keys(), s, "this feed");
    check_feeds();
  }

  Diag& diag() { return diag_; }
  Config& config() { return cfg_; }

 private:
  // Where each document of the stream starts and where its root node is; nothing else.
  class DocumentMarks : public YAML::EventHandler {
   public:
    struct Doc {
      YAML::Mark start, root;
    };
    std::vector<Doc> docs;

    void OnDocumentStart(const YAML::Mark& mark) override {
      docs.push_back({mark, mark});
      root_seen_ = false;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
      node(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
      node(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
      node(mark);
    }
    void OnMapEnd() override {}

   private:
    void node(const YAML::Mark& mark) {
      if (!root_seen_ && !docs.empty()) docs.back().root = mark;
      root_seen_ = true;
    }
    bool root_seen_ = false;
  };

  // The single document's root mapping, or nullopt after reporting why not.
  // Not YAML::LoadAll: in yaml-cpp 0.7 (Debian 12) it never returns, allocating a null document
  // per turn, when a document starts with a token the parser does not consume, e.g. a bare ','
  // (yaml-cpp#1040, fixed upstream after 0.8). Counting documents with our own loop lets us stop
  // as soon as the parser stops advancing.
  std::optional<YAML::Node> parse(std::string_view text) {
    const std::string yaml(text);
    DocumentMarks marks;
    const auto& docs = marks.docs;
    YAML::Node root;
    try {
      std::istringstream in(yaml);
      YAML::Parser parser(in);
      while (parser.HandleNextDocument(marks)) {
        // A document starting where the previous one did: the parser is stuck on a token.
        if (docs.size() >= 2 && docs.back().start.pos == docs[docs.size() - 2].start.pos) {
          diag_.error(loc_of(docs.back().start), "invalid YAML: unexpected token");
          return std::nullopt;
        }
      }
      root = YAML::Load(yaml);  // the first document
    } catch (const YAML::ParserException& e) {
      diag_.error(loc_of(e.mark), "invalid YAML: " + e.msg);
      return std::nullopt;
    }
    if (docs.size() > 1) {
      diag_.error(loc_of(docs[1].root),
                  "expected one YAML document, found " + std::to_string(docs.size()));
      return std::nullopt;
    }
    if (docs.empty() || root.IsNull()) {
      diag_.error({}, "the config is empty");
      return std::nullopt;
    }
    if (!root.IsMap()) {
      diag_.error(loc_of(root.Mark()),
                  "expected a mapping (shm:, log:, metrics:, feeds:) at the top level");
      return std::nullopt;
    }
    return root;
  }

  template <class T>
  void walk_map(const YAML::Node& map, const std::string& prefix,
                const std::vector<KeyDef<T>>& table, T& target, Seen& seen) {
    // yaml-cpp 0.7 keeps duplicate keys as separate pairs; catch them here.
    std::map<std::string, Loc, std::less<>> here;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const Loc key_loc = loc_of(it->first.Mark());
      if (!it->first.IsScalar()) {
        diag_.error(key_loc, "keys must be plain names");
        continue;
      }
      const std::string& name = it->first.Scalar();
      const std::string path = prefix + name;
      if (const auto [first, fresh] = here.emplace(name, key_loc); !fresh) {
        diag_.error(key_loc,
                    "duplicate key " + quoted(path) + " (first at " + where(first->second) + ")");
        continue;
      }
      if (const auto* k = find_key(table, path)) {
        set_key(*k, it->second, key_loc, target, seen);
      } else if (is_section(table, path)) {
        walk_section(it->second, path, table, target, seen);
      } else {
        diag_.error(key_loc, unknown_key_message(table, prefix, name));
      }
    }
  }

  template <class T>
  void walk_section(const YAML::Node& v, const std::string& path,
                    const std::vector<KeyDef<T>>& table, T& target, Seen& seen) {
    if (v.IsMap())
      walk_map(v, path + ".", table, target, seen);
    else if (!v.IsNull())  // an empty section keeps the defaults
      diag_.error(loc_of(v.Mark()), quoted(path) + " must be a mapping of keys");
  }

  template <class T>
  void set_key(const KeyDef<T>& k, const YAML::Node& v, const Loc& key_loc, T& target, Seen& seen) {
    const std::string path(k.path);
    seen.keys[path] = v.IsNull() ? key_loc : loc_of(v.Mark());
    if (std::holds_alternative<std::vector<FeedConfig> T::*>(k.field)) {
      load_feeds(v, seen.keys[path]);
      return;
    }
    const Raw raw = raw_from_yaml(v, key_loc, path, diag_);
    if (const auto value = Converter<T>(k, ctx_, diag_)(raw)) assign(k, *value, target);
  }

  void load_feeds(const YAML::Node& list, const Loc& loc) {
    if (list.IsNull()) return;  // check_feeds reports "no feeds"
    if (!list.IsSequence()) {
      diag_.error(loc, "feeds: expected a list of feeds, each starting with '- name:'");
      feed_items_ = true;
      return;
    }
    for (const auto& item : list) {
      feed_items_ = true;
      if (!item.IsMap()) {
        diag_.error(loc_of(item.Mark()),
                    "feeds: each feed must be a mapping (name:, exchange:, ...)");
        continue;
      }
      FeedConfig feed;
      Seen seen;
      seen.self = loc_of(item.Mark());
      walk_map(item, "", feed_keys(), feed, seen);
      cfg_.feeds.push_back(std::move(feed));
      feeds_seen_.push_back(std::move(seen));
    }
  }

  // After the file, so the environment wins; validated by the same Converter.
  void apply_env(const Environ& env) {
    for (const auto& k : top_keys()) {
      if (const auto raw = env_raw(env, k))
        if (const auto value = Converter<Config>(k, ctx_, diag_)(*raw)) {
          assign(k, *value, cfg_);
          top_.keys[std::string(k.path)] = raw->loc;
        }
    }
    for (const auto& k : feed_keys()) {
      const auto raw = env_raw(env, k);
      if (!raw) continue;
      // Converted once, so a bad value is reported once however many feeds there are.
      const auto value = Converter<FeedConfig>(k, ctx_, diag_)(*raw);
      if (!value) continue;
      for (std::size_t i = 0; i < cfg_.feeds.size(); ++i) {
        assign(k, *value, cfg_.feeds[i]);
        feeds_seen_[i].keys[std::string(k.path)] = raw->loc;
      }
    }
  }

  template <class T>
  static std::optional<Raw> env_raw(const Environ& env, const KeyDef<T>& k) {
    if (k.env.empty()) return std::nullopt;
    const auto value = env(k.env);
    if (!value || trim(*value).empty()) return std::nullopt;  // empty = unset, as for readers
    return raw_from_env(k.env, *value, is_list(k));
  }

  template <class T>
  void check_required(const std::vector<KeyDef<T>>& table, const Seen& seen, const char* what) {
    for (const auto& k : table)
      if (k.need == Need::Required && seen.keys.count(k.path) == 0)
        diag_.error(seen.self, std::string(what) + " is missing required key " + quoted(k.path));
  }

  void check_feeds() {
    if (cfg_.feeds.empty() && !feed_items_ && top_.keys.count("feeds") != 0)
      diag_.error(top_.at("feeds"), "feeds: at least one feed is required");
    std::map<std::string, Loc, std::less<>> names;
    for (std::size_t i = 0; i < cfg_.feeds.size(); ++i) {
      FeedConfig& f = cfg_.feeds[i];
      const Seen& seen = feeds_seen_[i];
      venue_defaults(f, [&seen](std::string_view key) { return seen.keys.count(key) != 0; });
      if (!f.name.empty()) {
        const auto [first, fresh] = names.emplace(f.name, seen.at("name"));
        if (!fresh)
          diag_.error(seen.at("name"), "name: duplicate feed name " + quoted(f.name) +
                                           " (first at " + where(first->second) + ")");
      }
      for (const auto& rule : feed_rules())
        if (const std::string msg = rule.check(f, cfg_); !msg.empty())
          diag_.error(seen.at(rule.key), msg);
    }
  }

  Diag diag_;
  RuleContext ctx_;
  Config cfg_;
  Seen top_;
  std::vector<Seen> feeds_seen_;  // parallel to cfg_.feeds
  bool feed_items_ = false;       // `feeds` had entries (valid or not)
};

// Relative paths in the file are relative to the file, not to the daemon's cwd (/ under systemd).
std::string base_dir_of(std::string_view name) {
  const auto slash = name.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? "/" : std::string(name.substr(0, slash));
}

// 0 and the content, or the errno. A directory fails at read() with EISDIR.
int read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[8192];
  int err = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxFileBytes) {
      err = EFBIG;
      break;
    }
  }
  ::close(fd);
  return err;
}

}  // namespace

LoadResult load_config_string(std::string_view yaml, std::string_view name, const Environ& env) {
  Loader loader(name, RuleContext{base_dir_of(name)});
  // Parse errors are handled inside; this is the net for anything else yaml-cpp or the
  // allocator throws, because loading must never throw for bad input.
  try {
    loader.load(yaml, env);
  } catch (const YAML::Exception& e) {
    loader.diag().error(loc_of(e.mark), e.msg);
  } catch (const std::exception& e) {
    loader.diag().error({}, std::string("internal error while loading: ") + e.what());
  }
  LoadResult result;
  result.errors = loader.diag().take();
  if (result.errors.empty()) {
    result.config = std::move(loader.config());
    result.config->source_path = std::string(name);
  }
  return result;
}

LoadResult load_config_file(const std::string& path, const Environ& env) {
  std::string text;
  if (const int err = read_file(path, text); err != 0) {
    LoadResult result;
    result.errors.push_back(ConfigError{
        path, 0, 0, "cannot read config file " + quoted(path) + ": " + std::strerror(err)});
    return result;
  }
  return load_config_string(text, path, env);
}

}  // namespace mdfeed
