#!/usr/bin/env node
'use strict';
// Run an ONNX model with ONNX Runtime (onnxruntime-node, CPU EP) on .npy/.npz inputs
// and write every output as <out>/<output name>.npy. See README.md.

const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');
const npy = require('./npy');
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

const USAGE = `usage: node tools/ort/ort_run.js MODEL.onnx [--input NAME=FILE.npy ...] [--npz FILE.npz]
         --out DIR [--batch B] [--threads N] [--opt all|extended|basic|layout|disabled]
         [--config key=value ...] [--save-optimized FILE.onnx] [--verbose]

  --input NAME=FILE  feed model input NAME from a .npy file (repeatable; overrides --npz)
  --npz FILE         feed inputs from the arrays of an .npz (array 'labels' is ignored
                     unless the model has an input of that name)
  --out DIR          write each output to DIR/<output name>.npy ('/', '\\\\', ':' etc -> '_')
  --batch B          split inputs along axis 0 into chunks of B rows, run each chunk,
                     concatenate outputs along axis 0 (use B=1 for fixed-batch-1 models)
  --threads N        intra-op threads (0 = ORT default)
  --opt LEVEL        graph optimization level (ORT default: all)
  --config k=v       session config entry, e.g. session.qdq_matmulnbits_accuracy_level=4
  --save-optimized F write ORT's optimized graph to F (to inspect fusions)

stdout: one JSON line {"outputs":[{"name","dims","dtype","file"}],"ms":<total run ms>,...}`;

function sanitize(name) {
  let s = name.replace(/[\/\\:*?"<>|\s\x00-\x1f]/g, '_');
  if (s === '' || s === '.' || s === '..') s = `_${s}`;
  return s;
}

function tensorToArray(name, t) {
  if (!t || typeof t.type !== 'string' || !t.dims) throw new Error(`output '${name}' is not a tensor`);
  if (t.type === 'string') throw new Error(`output '${name}' has type string, which cannot be written to .npy`);
  let data = t.data;
  const Ctor = npy.TYPED_ARRAY_FOR[t.type];
  if (!Ctor) throw new Error(`output '${name}' has unsupported type '${t.type}'`);
  if (!(data instanceof Ctor)) {
    // e.g. float16 as Float16Array on newer runtimes, bool as Uint8Array
    data = new Ctor(data.buffer, data.byteOffset, data.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  return { dtype: t.type, shape: Array.from(t.dims, Number), data };
}

function sliceRows(arr, start, end) {
  const inner = arr.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    dtype: arr.dtype,
    shape: [end - start, ...arr.shape.slice(1)],
    data: arr.data.slice(start * inner, end * inner),
  };
}

function concatRows(name, parts) {
  const first = parts[0];
  if (first.shape.length === 0) throw new Error(`output '${name}' is a scalar; cannot concatenate batches`);
  const tail = first.shape.slice(1);
  let rows = 0;
  let total = 0;
  for (const p of parts) {
    if (p.dtype !== first.dtype || p.shape.length !== first.shape.length || p.shape.slice(1).join() !== tail.join()) {
      throw new Error(
        `output '${name}': batch chunks have incompatible shapes [${first.shape}] vs [${p.shape}]; cannot concatenate`,
      );
    }
    rows += p.shape[0];
    total += p.data.length;
  }
  const data = new first.data.constructor(total);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { dtype: first.dtype, shape: [rows, ...tail], data };
}

async function main() {
  const { positional, opts } = parseArgs(process.argv.slice(2), {
    input: 'multi',
    npz: 'value',
    out: 'value',
    batch: 'value',
    threads: 'value',
    opt: 'value',
    config: 'multi',
    'save-optimized': 'value',
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
  if (!opts.out) throw new UsageError('--out DIR is required');
  const batch = parseIntOpt(opts.batch, 'batch', 1);
  const so = buildSessionOptions(opts);

  // ---- read inputs (before loading ORT, so file errors are reported early)
  const feeds = new Map(); // name -> {arr, file}
  if (opts.npz) {
    for (const [name, arr] of npy.readNpz(opts.npz)) feeds.set(name, { arr, file: `${opts.npz}:${name}` });
  }
  for (const spec of opts.input) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input expects NAME=FILE.npy, got '${spec}'`);
    const name = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    feeds.set(name, { arr: npy.readNpy(file), file });
  }

  const ort = loadOrt();
  const t0 = performance.now();
  const session = await createSession(ort, model, so);
  const loadMs = performance.now() - t0;

  const meta = new Map();
  for (const m of session.inputMetadata || []) meta.set(m.name, m);
  const inputNames = session.inputNames;
  if (feeds.has('labels') && !inputNames.includes('labels') && opts.npz) feeds.delete('labels');
  const unknown = [...feeds.keys()].filter((n) => !inputNames.includes(n));
  if (unknown.length) {
    throw new UsageError(
      `${model}: no model input named ${unknown.map((n) => `'${n}' (from ${feeds.get(n).file})`).join(', ')}; ` +
        `model inputs are: ${inputNames.join(', ')}`,
    );
  }
  const missing = inputNames.filter((n) => !feeds.has(n));
  if (missing.length) throw new UsageError(`${model}: no data given for model input(s): ${missing.join(', ')}`);

  for (const name of inputNames) {
    const { arr, file } = feeds.get(name);
    const m = meta.get(name);
    if (m && m.isTensor && m.type && m.type !== arr.dtype) {
      throw new UsageError(`${file}: dtype ${arr.dtype} does not match model input '${name}' of type ${m.type}`);
    }
    if (m && m.isTensor && Array.isArray(m.shape) && m.shape.length && m.shape.length !== arr.shape.length) {
      throw new UsageError(
        `${file}: shape [${arr.shape}] has rank ${arr.shape.length} but model input '${name}' has shape [${m.shape}]`,
      );
    }
  }

  // ---- split into chunks
  let chunks;
  if (batch === undefined) {
    chunks = [new Map(inputNames.map((n) => [n, feeds.get(n).arr]))];
  } else {
    let rows;
    for (const name of inputNames) {
      const { arr, file } = feeds.get(name);
      if (arr.shape.length === 0) throw new UsageError(`${file}: input '${name}' is a scalar; cannot split into batches`);
      if (rows === undefined) rows = arr.shape[0];
      else if (arr.shape[0] !== rows) {
        throw new UsageError(`${file}: input '${name}' has ${arr.shape[0]} rows on axis 0, other inputs have ${rows}`);
      }
    }
    chunks = [];
    for (let s = 0; s < rows; s += batch) {
      const e = Math.min(rows, s + batch);
      chunks.push(new Map(inputNames.map((n) => [n, sliceRows(feeds.get(n).arr, s, e)])));
    }
    if (chunks.length === 0) throw new UsageError('inputs have 0 rows on axis 0; nothing to run');
  }

  // ---- outputs to fetch. onnxruntime-node (checked with 1.30.0) aborts the whole process
  // (V8 "ArrayBuffer allocation failed") when it converts an int4/uint4 output to JS, so such
  // outputs are never fetched: they are reported as skipped instead.
  const outMeta = new Map((session.outputMetadata || []).map((m) => [m.name, m]));
  const skipped = [];
  const fetchNames = session.outputNames.filter((n) => {
    const m = outMeta.get(n);
    if (m && (m.type === 'int4' || m.type === 'uint4')) {
      skipped.push({ name: n, dtype: m.type, reason: '4-bit outputs cannot be fetched through onnxruntime-node' });
      process.stderr.write(`ort_run.js: warning: skipping output '${n}' of type ${m.type} (not fetchable from onnxruntime-node)\n`);
      return false;
    }
    return true;
  });
  if (fetchNames.length === 0) throw new Error(`${model}: no output can be fetched (all are 4-bit)`);

  // ---- run
  const outParts = new Map(fetchNames.map((n) => [n, []]));
  let runMs = 0;
  for (let c = 0; c < chunks.length; c++) {
    const feed = {};
    for (const [n, a] of chunks[c]) feed[n] = new ort.Tensor(a.dtype, a.data, a.shape);
    let res;
    const t1 = performance.now();
    try {
      res = await session.run(feed, fetchNames);
    } catch (e) {
      const where = chunks.length > 1 ? ` (batch chunk ${c + 1}/${chunks.length})` : '';
      const hint =
        batch === undefined && /invalid dimensions/i.test(e.message)
          ? '\n(hint: for a model with a fixed batch size, split the inputs with --batch B)'
          : '';
      throw new Error(`${model}: inference failed${where}: ${e.message}${hint}`);
    }
    runMs += performance.now() - t1;
    for (const n of fetchNames) outParts.get(n).push(tensorToArray(n, res[n]));
  }

  // ---- write outputs
  fs.mkdirSync(opts.out, { recursive: true });
  const used = new Set();
  const summary = [];
  for (const n of fetchNames) {
    const parts = outParts.get(n);
    const arr = parts.length === 1 ? parts[0] : concatRows(n, parts);
    let base = sanitize(n);
    for (let k = 1; used.has(base); k++) base = `${sanitize(n)}_${k}`;
    used.add(base);
    const file = path.join(opts.out, `${base}.npy`);
    try {
      npy.writeNpy(file, arr);
    } catch (e) {
      throw new Error(`${file}: cannot write output '${n}': ${e.message}`);
    }
    summary.push({ name: n, dims: arr.shape, dtype: arr.dtype, file });
  }
  await session.release?.();
  const round = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(
    JSON.stringify({
      outputs: summary,
      ...(skipped.length ? { skipped } : {}),
      ms: round(runMs),
      load_ms: round(loadMs),
      runs: chunks.length,
    }) + '\n',
  );
}

main().catch((e) => {
  if (e instanceof UsageError) fail(`${e.message}\n${USAGE.split('\n')[0]}`, 2);
  fail(e.message, 1);
});
