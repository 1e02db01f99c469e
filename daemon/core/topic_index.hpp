// A stream's topic -> its stream, looked up once per market-data message.
//
// An open-addressing table of {hash, pointer} (linear probing, at most half full, deletion by
// backward shift: no tombstones). A lookup reads one or two 16-byte entries of a small array and
// then the stream itself, which the message needs anyway; std::unordered_map<std::string, T*>
// also walked a node and the key's heap buffer, three cache misses per message with thousands of
// streams (5.8% of the daemon at 3000 streams at the real rate, bench/RESULTS.md §11).
// T must have a `topic` member convertible to std::string_view that does not change while the
// entry is in the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace mdfeed {

template <class T>
class TopicIndex {
 public:
  // Inserts or replaces the entry for v->topic.
  void insert(T* v) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash(v->topic);
    Entry& e = slots_[probe(v->topic, h)];
    if (e.value == nullptr) ++size_;
    e = {h, v};
  }

  [[nodiscard]] T* find(std::string_view topic) const noexcept {
    if (size_ == 0) return nullptr;
    return slots_[probe(topic, hash(topic))].value;
  }

  // Removes the entry for topic, if any; returns whether there was one.
  bool erase(std::string_view topic) noexcept {
    if (size_ == 0) return false;
    std::size_t i = probe(topic, hash(topic));
    if (slots_[i].value == nullptr) return false;
    // Backward shift: pull later entries of the run into the hole when their home slot allows.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      Entry& e = slots_[j];
      if (e.value == nullptr) break;
      const std::size_t home = e.hash & mask();
      // e may move to i if i lies cyclically in [home, j).
      if (((j - home) & mask()) >= ((j - i) & mask())) {
        slots_[i] = e;
        i = j;
      }
    }
    slots_[i] = {};
    --size_;
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  template <class F>
  void for_each(F&& f) const {
    for (const Entry& e : slots_)
      if (e.value != nullptr) f(*e.value);
  }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    T* value = nullptr;
  };

  [[nodiscard]] static std::uint64_t hash(std::string_view s) noexcept {
    return std::hash<std::string_view>{}(s);
  }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }

  // The slot holding topic, or the empty slot that ends its run (the table is never full).
  [[nodiscard]] std::size_t probe(std::string_view topic, std::uint64_t h) const noexcept {
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      const Entry& e = slots_[i];
      if (e.value == nullptr || (e.hash == h && std::string_view(e.value->topic) == topic)) return i;
    }
  }

  void grow() {
    std::vector<Entry> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    size_ = 0;
    for (const Entry& e : old)
      if (e.value != nullptr) insert(e.value);
  }

  std::vector<Entry> slots_;
  std::size_t size_ = 0;
};

}  // namespace mdfeed
