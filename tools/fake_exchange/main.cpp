// mdfeed-fake-exchange: a fake exchange (Binance spot and USD-M, OKX, Bybit) for integration tests, the demo and
// benchmarks. See options.cpp (--help) for the command line and commands.hpp for stdin faults.
#include <cstdio>
#include <exception>

#include "fake_exchange/options.hpp"
#include "fake_exchange/server.hpp"
#include "fake_exchange/truth_dump.hpp"

int main(int argc, char** argv) {
  mdfeed::fake::CliResult cli;
  try {
    cli = mdfeed::fake::parse_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mdfeed-fake-exchange: %s\n\n%s", e.what(), mdfeed::fake::usage().c_str());
    return 2;
  }
  if (cli.help) {
    std::fputs(mdfeed::fake::usage().c_str(), stdout);
    return 0;
  }
  if (!cli.options.dump_truth.empty()) {
    std::string out, error;
    if (!mdfeed::fake::dump_truth(cli.options.dump_truth, out, error)) {
      std::fprintf(stderr, "mdfeed-fake-exchange: --dump-truth: %s\n", error.c_str());
      return 2;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  try {
    return mdfeed::fake::run_server(cli.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mdfeed-fake-exchange: %s\n", e.what());
    return 1;
  }
}
