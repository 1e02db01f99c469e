// Binance spot as an adapter table: this folder's pieces behind the venue-neutral interface.
#include "binance/binance_adapter.hpp"

#include <memory>

#include "binance/kline_parser.hpp"
#include "binance/rest.hpp"
#include "binance/streams.hpp"
#include "binance/venue.hpp"

namespace mdfeed::binance {
namespace {

adapter::MessageParser make_parser(std::size_t max_bytes) {
  return adapter::MessageParser::own(std::make_unique<KlineParser>(max_bytes));
}

}  // namespace

const adapter::Adapter kAdapter = {
    /*name=*/"binance",
    /*default_ws_url=*/kDefaultWsUrl,
    /*default_rest_url=*/kDefaultRestUrl,
    /*limits=*/&kSpotLimits,
    /*stream_name=*/&stream_name,
    /*combined_path=*/&combined_path,
    /*subscribe_message=*/&subscribe_message,
    /*make_parser=*/&make_parser,
    /*klines_target=*/&klines_target,
    /*parse_klines=*/&parse_klines_response,
    /*server_time_target=*/kServerTimeTarget,
    /*parse_server_time=*/&parse_server_time,
};

}  // namespace mdfeed::binance
