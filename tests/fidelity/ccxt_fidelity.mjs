// Fidelity check of the fake exchange against an independent client: CCXT (REST fetchOHLCV and
// ccxt.pro watchOHLCV) pointed at the fake on 127.0.0.1, for binance (spot), binanceusdm, okx
// (spot and swap) and bybit (spot and linear). Every closed candle CCXT parses must equal the
// fake's ground truth (--dump-truth) exactly: CCXT parses the wire strings with parseFloat, as
// correctly rounded as the C++ side, so the comparison is ===, not approximate.
//
// usage: node ccxt_fidelity.mjs --exe PATH --certs DIR
// TLS is verified: the test CA reaches Node through NODE_EXTRA_CA_CERTS (set by run.sh).
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import ccxt from 'ccxt';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const exe = args.exe;
const certs = args.certs;
if (!exe || !certs) throw new Error('usage: ccxt_fidelity.mjs --exe PATH --certs DIR');

const REST_LIMIT = 20;
const WS_CLOSED_BARS = 3;        // closed candles to see per WS stream
const WS_TIMEOUT_MS = 30_000;

function startFake() {
  // speed 60: a 1m bar per real second, so WS closes arrive quickly.
  const proc = spawn(exe, ['--cert', `${certs}/server.pem`, '--key', `${certs}/server.key`,
    '--ca', `${certs}/ca.pem`, '--port', '0', '--speed', '60', '--exit-on-stdin-eof'],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake did not start')), 10_000);
    lines.on('line', (line) => {
      if (line.startsWith('ready port=')) {
        clearTimeout(timer);
        resolve({ proc, port: Number(line.split('=')[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`fake exited ${code}`)));
  });
}

function truth(symbol, fromMs, count) {
  const r = spawnSync(exe, ['--dump-truth', `${symbol},1m,${fromMs},${count}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`--dump-truth failed: ${r.stderr}`);
  const bars = new Map();
  for (const line of r.stdout.trim().split('\n')) {
    const b = JSON.parse(line);
    bars.set(b.t, b);
  }
  return bars;
}

// CCXT's unified candle: [timestamp, open, high, low, close, volume(base)].
function expected(b) {
  return [b.t, parseFloat(b.o), parseFloat(b.h), parseFloat(b.l), parseFloat(b.c), parseFloat(b.v)];
}

function compare(label, wireSymbol, candles, skipNewest) {
  const closed = skipNewest ? candles.slice(0, -1) : candles;
  if (closed.length === 0) throw new Error(`${label}: no closed candles`);
  const bars = truth(wireSymbol, closed[0][0], closed.length + 2);
  let prev = -Infinity;
  for (const c of closed) {
    if (!(c[0] > prev)) throw new Error(`${label}: candles not ascending at ${c[0]}`);
    prev = c[0];
    const b = bars.get(c[0]);
    if (!b) throw new Error(`${label}: no truth for ${c[0]}`);
    const want = expected(b);
    for (let i = 0; i < 6; i++) {
      if (c[i] !== want[i]) {
        throw new Error(`${label}: candle ${c[0]} field ${i}: ccxt ${c[i]} != truth ${want[i]} (${JSON.stringify(b)})`);
      }
    }
  }
  return closed.length;
}

// Minimal market definitions, so no exchangeInfo/instruments endpoint is needed.
function market(id, base, quote, kind, extra = {}) {
  const spot = kind === 'spot';
  const symbol = spot ? `${base}/${quote}` : `${base}/${quote}:${quote}`;
  return {
    id, symbol, base, quote, baseId: base, quoteId: quote, lowercaseId: id.toLowerCase(),
    settle: spot ? undefined : quote, settleId: spot ? undefined : quote,
    type: spot ? 'spot' : 'swap', spot, margin: false, swap: !spot, future: false, option: false,
    contract: !spot, linear: spot ? undefined : true, inverse: spot ? undefined : false,
    contractSize: spot ? undefined : 1, active: true, precision: { amount: 1e-8, price: 1e-8 },
    limits: { amount: {}, price: {}, cost: {}, leverage: {} }, info: {}, ...extra,
  };
}

function venues(port) {
  const https = `https://127.0.0.1:${port}`;
  const wss = `wss://127.0.0.1:${port}`;
  return [
    {
      name: 'binance', make: () => new ccxt.pro.binance(),
      urls: (ex) => { ex.urls.api.public = `${https}/api/v3`; ex.urls.api.ws.spot = `${wss}/ws`; },
      markets: [market('BTCUSDT', 'BTC', 'USDT', 'spot'), market('ETHUSDT', 'ETH', 'USDT', 'spot')],
      cases: [['BTC/USDT', 'BTCUSDT'], ['ETH/USDT', 'ETHUSDT']],
    },
    {
      // Given .../ws, CCXT 4.5.84 itself routes klines to .../market/ws (Binance's 2026-04 split),
      // so this also checks that the fake serves the routed USD-M URL.
      name: 'binanceusdm', make: () => new ccxt.pro.binanceusdm(),
      urls: (ex) => { ex.urls.api.fapiPublic = `${https}/fapi/v1`; ex.urls.api.ws.future = `${wss}/ws`; },
      markets: [market('BTCUSDT', 'BTC', 'USDT', 'swap')],
      cases: [['BTC/USDT:USDT', 'BTCUSDT']],
    },
    {
      name: 'okx', make: () => new ccxt.pro.okx(),
      urls: (ex) => { ex.urls.api.rest = https; ex.urls.api.ws = `${wss}/ws/v5`; },
      markets: [market('BTC-USDT', 'BTC', 'USDT', 'spot'),
        market('BTC-USDT-SWAP', 'BTC', 'USDT', 'swap', { contractSize: 0.01 })],
      cases: [['BTC/USDT', 'BTC-USDT'], ['BTC/USDT:USDT', 'BTC-USDT-SWAP']],
    },
    {
      name: 'bybit', make: () => new ccxt.pro.bybit(),
      urls: (ex) => {
        ex.urls.api.public = https;
        ex.urls.api.ws.public.spot = `${wss}/v5/public/spot`;
        ex.urls.api.ws.public.linear = `${wss}/v5/public/linear`;
      },
      markets: [market('BTCUSDT', 'BTC', 'USDT', 'spot'), market('SOLUSDT', 'SOL', 'USDT', 'swap')],
      cases: [['BTC/USDT', 'BTCUSDT'], ['SOL/USDT:USDT', 'SOLUSDT']],
    },
  ];
}

// watchOHLCV returns the candles updated since the previous call (ccxt.pro newUpdates), so the
// latest version of each candle is kept by open time.
async function watchClosed(ex, symbol) {
  const deadline = Date.now() + WS_TIMEOUT_MS;
  const byOpen = new Map();
  while (Date.now() < deadline) {
    const got = await Promise.race([
      ex.watchOHLCV(symbol, '1m'),
      new Promise((_, rej) => setTimeout(() => rej(new Error(`watchOHLCV ${symbol}: no message in 10 s`)), 10_000)),
    ]);
    for (const c of got) byOpen.set(c[0], c.slice());
    if (byOpen.size >= WS_CLOSED_BARS + 1) break;
  }
  if (byOpen.size < WS_CLOSED_BARS + 1)
    throw new Error(`watchOHLCV ${symbol}: only ${byOpen.size} candles in ${WS_TIMEOUT_MS} ms`);
  // The first candle may have been joined mid-bar, but its close push still carries the truth.
  return [...byOpen.values()].sort((a, b) => a[0] - b[0]);
}

async function main() {
  const { proc, port } = await startFake();
  const results = [];
  let failed = 0;
  try {
    for (const v of venues(port)) {
      const ex = v.make();
      v.urls(ex);
      ex.setMarkets(v.markets);
      for (const [symbol, wireSymbol] of v.cases) {
        const label = `${v.name} ${symbol}`;
        try {
          // The newest REST candle may still be forming: compare the ones before it.
          const rest = await ex.fetchOHLCV(symbol, '1m', undefined, REST_LIMIT);
          if (rest.length !== REST_LIMIT) throw new Error(`REST gave ${rest.length} candles, asked ${REST_LIMIT}`);
          const nRest = compare(`${label} REST`, wireSymbol, rest, true);
          // Cached WS candles: each but the newest got its closing push last, so it is final.
          const ws = await watchClosed(ex, symbol);
          const nWs = compare(`${label} WS`, wireSymbol, ws, true);
          results.push(`PASS ${label}: REST ${nRest} closed candles, WS ${nWs} closed candles equal the truth`);
        } catch (e) {
          failed++;
          results.push(`FAIL ${label}: ${e.message}`);
        }
      }
      await ex.close();
    }
  } finally {
    proc.stdin.end();
    proc.kill('SIGTERM');
  }
  for (const r of results) console.log(r);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
