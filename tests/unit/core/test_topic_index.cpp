// TopicIndex against std::map as the model: random inserts, replacements, erases and lookups,
// many of them colliding in the table (small sizes, long runs), so backward-shift deletion is
// exercised in every position of a run, across the wrap-around too.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/topic_index.hpp"

namespace {
struct Item {
  std::string topic;
};
}  // namespace

TEST_CASE("topic index: empty, insert, replace, erase", "[topic_index]") {
  mdfeed::TopicIndex<Item> ix;
  CHECK(ix.find("btcusdt@kline_1m") == nullptr);
  CHECK_FALSE(ix.erase("btcusdt@kline_1m"));
  Item a{"btcusdt@kline_1m"}, b{"btcusdt@kline_1m"}, c{"ethusdt@kline_1m"};
  ix.insert(&a);
  ix.insert(&c);
  CHECK(ix.find("btcusdt@kline_1m") == &a);
  CHECK(ix.find("ethusdt@kline_1m") == &c);
  CHECK(ix.find("btcusdt@kline_5m") == nullptr);
  ix.insert(&b);  // same topic: replaces
  CHECK(ix.size() == 2);
  CHECK(ix.find("btcusdt@kline_1m") == &b);
  CHECK(ix.erase("btcusdt@kline_1m"));
  CHECK(ix.find("btcusdt@kline_1m") == nullptr);
  CHECK(ix.find("ethusdt@kline_1m") == &c);
  CHECK(ix.size() == 1);
}

TEST_CASE("topic index: random operations agree with std::map", "[topic_index]") {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 20; ++round) {
    const int universe = 8 + round * 40;  // few keys (dense runs) to many (growth)
    std::vector<std::unique_ptr<Item>> items;
    for (int k = 0; k < universe; ++k)
      items.push_back(std::make_unique<Item>(Item{"sym" + std::to_string(k) + "@kline_1m"}));
    mdfeed::TopicIndex<Item> ix;
    std::map<std::string, Item*> model;
    for (int op = 0; op < 4000; ++op) {
      Item* it = items[rng() % items.size()].get();
      switch (rng() % 3) {
        case 0:
          ix.insert(it);
          model[it->topic] = it;
          break;
        case 1:
          REQUIRE(ix.erase(it->topic) == (model.erase(it->topic) == 1));
          break;
        default: {
          const auto m = model.find(it->topic);
          REQUIRE(ix.find(it->topic) == (m == model.end() ? nullptr : m->second));
        }
      }
      REQUIRE(ix.size() == model.size());
    }
    // Every key, present or not, and iteration, agree at the end.
    for (const auto& p : items) {
      const auto m = model.find(p->topic);
      REQUIRE(ix.find(p->topic) == (m == model.end() ? nullptr : m->second));
    }
    std::size_t seen = 0;
    ix.for_each([&](Item& i) {
      ++seen;
      REQUIRE(model.at(i.topic) == &i);
    });
    REQUIRE(seen == model.size());
  }
}
