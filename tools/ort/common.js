'use strict';
// Shared helpers for ort_run.js and ort_bench.js.

const fs = require('fs');
const path = require('path');

class UsageError extends Error {}

function fail(msg, code = 1) {
  process.stderr.write(`${path.basename(process.argv[1] || 'ort')}: error: ${msg}\n`);
  process.exit(code);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    fail(
      `cannot load onnxruntime-node (${e.message.split('\n')[0]}); run tools/ort/install.sh first`,
      2,
    );
  }
  return null;
}

/**
 * Tiny argv parser. `spec` maps option name (without --) to 'value', 'multi' or 'flag'.
 * Returns {positional: [...], opts: {name: value | [values] | true}}. Accepts --opt=value too.
 */
function parseArgs(argv, spec) {
  const positional = [];
  const opts = {};
  for (const [k, kind] of Object.entries(spec)) if (kind === 'multi') opts[k] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'flag') {
      if (value !== undefined) throw new UsageError(`option --${name} takes no value`);
      opts[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      value = argv[++i];
    }
    if (kind === 'multi') opts[name].push(value);
    else opts[name] = value;
  }
  return { positional, opts };
}

function parseIntOpt(v, name, min = 0) {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(String(v)) || Number(v) < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  }
  return Number(v);
}

const OPT_LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];

/**
 * Build onnxruntime-node SessionOptions from common CLI options.
 * --config key=value entries go to sessionOptions.extra as flat keys: the Node binding
 * walks `extra` recursively, joins nested keys with '.', and calls AddSessionConfigEntry,
 * so {'session.foo': '1'} and {session: {foo: '1'}} are equivalent. Values must be strings.
 */
function buildSessionOptions(opts) {
  const so = { executionProviders: ['cpu'] };
  const threads = parseIntOpt(opts.threads, 'threads', 0);
  if (threads !== undefined) so.intraOpNumThreads = threads;
  if (opts.opt !== undefined) {
    if (!OPT_LEVELS.includes(opts.opt)) {
      throw new UsageError(`--opt must be one of ${OPT_LEVELS.join('|')}, got '${opts.opt}'`);
    }
    so.graphOptimizationLevel = opts.opt;
  }
  const extra = {};
  for (const kv of opts.config || []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config expects key=value, got '${kv}'`);
    extra[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (Object.keys(extra).length) so.extra = extra;
  if (opts['save-optimized']) so.optimizedModelFilePath = path.resolve(opts['save-optimized']);
  if (opts.verbose) so.logSeverityLevel = 0;
  return so;
}

function checkModelFile(model) {
  if (!model) throw new UsageError('missing MODEL.onnx argument');
  let st;
  try {
    st = fs.statSync(model);
  } catch (e) {
    throw new UsageError(`${model}: cannot access model file: ${e.code || e.message}`);
  }
  if (!st.isFile()) throw new UsageError(`${model}: not a regular file`);
}

async function createSession(ort, model, so) {
  try {
    return await ort.InferenceSession.create(model, so);
  } catch (e) {
    throw new Error(`${model}: failed to create ONNX Runtime session: ${e.message}`);
  }
}

module.exports = {
  UsageError,
  fail,
  loadOrt,
  parseArgs,
  parseIntOpt,
  buildSessionOptions,
  checkModelFile,
  createSession,
};
