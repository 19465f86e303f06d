#!/usr/bin/env node
'use strict';
// Latency benchmark of an ONNX model with ONNX Runtime (onnxruntime-node, CPU EP) on
// deterministic random inputs. See README.md.

const { performance } = require('perf_hooks');
const {
  UsageError,
  fail,
  loadOrt,
  parseArgs,
  parseIntOpt,
  buildSessionOptions,
  checkModelFile,
  createSession,
} = require('./common');

const USAGE = `usage: node tools/ort/ort_bench.js MODEL.onnx [--batch B] [--threads N] [--runs R] [--warmup W]
         [--shape NAME=d0,d1,... ...] [--opt LEVEL] [--config key=value ...] [--seed S]

  --batch B     value for every symbolic/unknown input dimension (default 1)
  --shape N=... explicit shape for input N (overrides the model's metadata)
  --threads N   intra-op threads (0 or absent = ORT default)
  --runs R      timed runs (default 20); --warmup W untimed runs first (default 3)
  --opt, --config  as in ort_run.js

Inputs: floats uniform in [-1, 1), integers in [0, 10), bools random; fixed-seed LCG.
stdout: {"median_ms":..,"min_ms":..,"mean_ms":..,"runs":R,"warmup":W,"threads":N,"batch":B,"inputs":{..}}`;

function makeRng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296; // [0, 1)
  };
}

function floatToHalfBits(f) {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  const x = buf.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values to zero (inputs are in [-1, 1) anyway)
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

function randomTensor(ort, type, dims, rnd) {
  const n = dims.reduce((a, b) => a * b, 1);
  const f = () => rnd() * 2 - 1;
  const i = () => Math.floor(rnd() * 10);
  let data;
  switch (type) {
    case 'float32':
      data = Float32Array.from({ length: n }, f);
      break;
    case 'float64':
      data = Float64Array.from({ length: n }, f);
      break;
    case 'float16':
      data = Uint16Array.from({ length: n }, () => floatToHalfBits(f()));
      break;
    case 'int8':
      data = Int8Array.from({ length: n }, i);
      break;
    case 'uint8':
      data = Uint8Array.from({ length: n }, i);
      break;
    case 'int16':
      data = Int16Array.from({ length: n }, i);
      break;
    case 'uint16':
      data = Uint16Array.from({ length: n }, i);
      break;
    case 'int32':
      data = Int32Array.from({ length: n }, i);
      break;
    case 'uint32':
      data = Uint32Array.from({ length: n }, i);
      break;
    case 'int64':
      data = BigInt64Array.from({ length: n }, () => BigInt(i()));
      break;
    case 'uint64':
      data = BigUint64Array.from({ length: n }, () => BigInt(i()));
      break;
    case 'bool':
      data = Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0));
      break;
    default:
      throw new Error(`cannot make random data for input type '${type}'`);
  }
  return new ort.Tensor(type, data, dims);
}

function parseShapes(list) {
  const shapes = new Map();
  for (const spec of list) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--shape expects NAME=d0,d1,..., got '${spec}'`);
    const dimsStr = spec.slice(eq + 1).trim();
    const dims = dimsStr === '' ? [] : dimsStr.split(',').map((d) => d.trim());
    if (dims.some((d) => !/^\d+$/.test(d))) throw new UsageError(`--shape ${spec}: dimensions must be integers >= 0`);
    shapes.set(spec.slice(0, eq), dims.map(Number));
  }
  return shapes;
}

async function main() {
  const { positional, opts } = parseArgs(process.argv.slice(2), {
    batch: 'value',
    threads: 'value',
    runs: 'value',
    warmup: 'value',
    shape: 'multi',
    opt: 'value',
    config: 'multi',
    seed: 'value',
    verbose: 'flag',
    help: 'flag',
  });
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positional.length !== 1) throw new UsageError(positional.length ? `expected one model, got: ${positional.join(' ')}` : 'missing MODEL.onnx');
  const model = positional[0];
  checkModelFile(model);
  const batch = parseIntOpt(opts.batch, 'batch', 1) ?? 1;
  const runs = parseIntOpt(opts.runs, 'runs', 1) ?? 20;
  const warmup = parseIntOpt(opts.warmup, 'warmup', 0) ?? 3;
  const seed = parseIntOpt(opts.seed, 'seed', 0) ?? 12345;
  const shapes = parseShapes(opts.shape);
  const so = buildSessionOptions(opts);

  const ort = loadOrt();
  const t0 = performance.now();
  const session = await createSession(ort, model, so);
  const loadMs = performance.now() - t0;

  const meta = new Map();
  for (const m of session.inputMetadata || []) meta.set(m.name, m);
  for (const name of shapes.keys()) {
    if (!session.inputNames.includes(name)) {
      throw new UsageError(`--shape ${name}: model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
  }
  const rnd = makeRng(seed);
  const feeds = {};
  const inputsInfo = {};
  for (const name of session.inputNames) {
    const m = meta.get(name);
    if (m && m.isTensor === false) throw new Error(`${model}: input '${name}' is not a tensor; cannot benchmark`);
    const type = (m && m.type) || 'float32';
    let dims;
    if (shapes.has(name)) dims = shapes.get(name);
    else if (m && Array.isArray(m.shape)) dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : batch));
    else throw new UsageError(`${model}: no shape metadata for input '${name}'; pass --shape ${name}=d0,d1,...`);
    feeds[name] = randomTensor(ort, type, dims, rnd);
    inputsInfo[name] = { dims, dtype: type };
  }

  const run = async (i, timed) => {
    try {
      await session.run(feeds);
    } catch (e) {
      throw new Error(`${model}: inference failed (${timed ? 'timed' : 'warm-up'} run ${i + 1}): ${e.message}`);
    }
  };
  for (let i = 0; i < warmup; i++) await run(i, false);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run(i, true);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  await session.release?.();
  process.stdout.write(
    JSON.stringify({
      median_ms: round(median),
      min_ms: round(times[0]),
      mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
      runs,
      warmup,
      threads: so.intraOpNumThreads ?? 0,
      batch,
      load_ms: round(loadMs),
      inputs: inputsInfo,
    }) + '\n',
  );
}

main().catch((e) => {
  if (e instanceof UsageError) fail(`${e.message}\n${USAGE.split('\n')[0]}`, 2);
  fail(e.message, 1);
});
