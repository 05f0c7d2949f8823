// Runs ONNX Runtime (npm's onnxruntime-node) on every fixture listed in testdata/onnx/fixtures.json
// and writes <name>.expected.json: the outputs the Go runner is checked against.
//
//   node tools/onnxfixtures/expected.mjs [testdata dir]
//
// One intra-op and one inter-op thread, sequential execution: the same machine writes the same
// bytes every time. Where an input file carries an independent reference (sklearn's or numpy's
// outputs), ONNX Runtime's outputs are compared with it and the run fails on a mismatch, so a
// wrong hand conversion cannot become an expected output.
//
// onnxruntime-node cannot return non-tensor values (ZipMap's seq(map)): for those outputs the
// fixture model is still loaded and run for its tensor outputs, and the probabilities are taken
// from a helper model that make_models.py wrote to build/<name>.zipmap_source.onnx (the same
// graph with the ZipMap's input tensor as an extra output); they are zipped here with the
// ZipMap's class labels, which is all ZipMap does.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const ortVersion = JSON.parse(
  fs.readFileSync(path.join(here, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
).version;

const dir = path.resolve(process.argv[2] ?? path.join(here, '..', '..', 'testdata', 'onnx'));
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'fixtures.json'), 'utf8'));

const sessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};

// ---- JSON writing, in the same layout as make_models.py ----

class Flat {
  constructor(values, rowlen) {
    this.values = values;
    this.rowlen = Math.max(1, rowlen);
  }
}

// The shortest decimal that reads back (as float64, then rounded to float32) as x.
function f32(x) {
  if (Number.isNaN(x)) return null;
  if (!Number.isFinite(x)) throw new Error('infinite value has no JSON form');
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return v;
  }
  return x;
}

function f64(x) {
  if (Number.isNaN(x)) return null;
  if (!Number.isFinite(x)) throw new Error('infinite value has no JSON form');
  return x;
}

function scalarJSON(v) {
  if (v === null) return 'null';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0.0' : String(v);
  return JSON.stringify(v);
}

function isScalar(v) {
  return v === null || ['number', 'string', 'boolean'].includes(typeof v);
}

function toJSON(v, indent = 0) {
  const pad = '  '.repeat(indent);
  const pad1 = '  '.repeat(indent + 1);
  if (v instanceof Flat) {
    const vals = v.values.map((x) => (isScalar(x) ? scalarJSON(x) : toJSON(x, indent + 1)));
    if (vals.length <= v.rowlen && vals.length <= 16) return '[' + vals.join(', ') + ']';
    const lines = [];
    for (let i = 0; i < vals.length; i += v.rowlen) lines.push(pad1 + vals.slice(i, i + v.rowlen).join(', '));
    return '[\n' + lines.join(',\n') + '\n' + pad + ']';
  }
  if (Array.isArray(v)) {
    if (v.every(isScalar)) return toJSON(new Flat(v, 10), indent);
    return '[\n' + v.map((x) => pad1 + toJSON(x, indent + 1)).join(',\n') + '\n' + pad + ']';
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    // a map of ZipMap: one line
    if (keys.every((k) => isScalar(v[k])) && keys.length <= 8) {
      return '{' + keys.map((k) => JSON.stringify(k) + ': ' + scalarJSON(v[k])).join(', ') + '}';
    }
    return '{\n' + keys.map((k) => pad1 + JSON.stringify(k) + ': ' + toJSON(v[k], indent + 1)).join(',\n') + '\n' + pad + '}';
  }
  return scalarJSON(v);
}

// ---- tensors ----

function feed(t) {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`${t.name}: ${t.data.length} values for shape ${t.shape}`);
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(t.data, (x) => (x === null ? NaN : x)), t.shape);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(t.data, (x) => (x === null ? NaN : x)), t.shape);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(t.data, (x) => BigInt(x)), t.shape);
    case 'string':
      return new ort.Tensor('string', t.data.slice(), t.shape);
    default:
      throw new Error(`${t.name}: unsupported input dtype ${t.dtype}`);
  }
}

const ORT_DTYPE = { float32: 'float32', float64: 'float64', int64: 'int64', string: 'string' };

function values(tensor) {
  switch (tensor.type) {
    case 'float32':
      return Array.from(tensor.data, f32);
    case 'float64':
      return Array.from(tensor.data, f64);
    case 'int64':
      return Array.from(tensor.data, (x) => {
        if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('int64 out of range');
        return Number(x);
      });
    case 'string':
      return Array.from(tensor.data);
    default:
      throw new Error(`unsupported output type ${tensor.type}`);
  }
}

function rowlen(shape) {
  return shape.length >= 2 ? shape[shape.length - 1] : 10;
}

function tensorJSON(name, tensor) {
  if (!(tensor.type in ORT_DTYPE)) throw new Error(`${name}: unsupported output type ${tensor.type}`);
  const shape = tensor.dims.map(Number);
  return { name, dtype: ORT_DTYPE[tensor.type], shape, data: new Flat(values(tensor), rowlen(shape)) };
}

// ---- checks against the independent reference ----

function compare(fixture, outputs, ref) {
  const failures = [];
  const lines = [];
  for (const want of ref.outputs) {
    const got = outputs.find((o) => o.name === want.name);
    if (!got) {
      failures.push(`${fixture}: reference output ${want.name} not produced`);
      continue;
    }
    if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
      failures.push(`${fixture}/${want.name}: shape ${JSON.stringify(got.shape)}, reference ${JSON.stringify(want.shape)}`);
      continue;
    }
    const g = got.data.values;
    const w = want.data;
    if (want.dtype === 'int64' || want.dtype === 'string') {
      const bad = [];
      for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) bad.push(i);
      if (bad.length) failures.push(`${fixture}/${want.name}: differs from the reference at rows ${bad.join(', ')}`);
      lines.push(`${want.name} ${bad.length ? 'MISMATCH' : 'equal'}`);
      continue;
    }
    let maxAbs = 0;
    let maxRel = 0;
    for (let i = 0; i < w.length; i++) {
      const a = g[i] === null ? NaN : g[i];
      const b = w[i] === null ? NaN : w[i];
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const d = Math.abs(a - b);
      if (!(d <= ref.tolerance.abs + ref.tolerance.rel * Math.abs(b))) {
        failures.push(`${fixture}/${want.name}[${i}]: ${a} vs reference ${b}`);
      }
      maxAbs = Math.max(maxAbs, d);
      if (b !== 0) maxRel = Math.max(maxRel, d / Math.abs(b));
    }
    lines.push(`${want.name} max abs ${maxAbs.toExponential(1)} rel ${maxRel.toExponential(1)}`);
  }
  return { failures, summary: lines.join('; ') };
}

// ---- main ----

const failures = [];
for (const fx of manifest.fixtures) {
  const input = JSON.parse(fs.readFileSync(path.join(dir, fx.input), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, fx.model), sessionOptions);
  const wantIn = fx.inputs.map((i) => i.name);
  const wantOut = fx.outputs.map((o) => o.name);
  if (JSON.stringify(session.inputNames) !== JSON.stringify(wantIn)) throw new Error(`${fx.name}: inputs ${session.inputNames}`);
  if (JSON.stringify(session.outputNames) !== JSON.stringify(wantOut)) throw new Error(`${fx.name}: outputs ${session.outputNames}`);

  const feeds = {};
  for (const t of input.inputs) feeds[t.name] = feed(t);
  const zipName = fx.zipmap ? fx.zipmap.output : null;
  const fetches = wantOut.filter((n) => n !== zipName);
  const result = await session.run(feeds, fetches);

  let zipped = null;
  if (fx.zipmap) {
    const helperModel = path.join(here, 'build', `${fx.name}.zipmap_source.onnx`);
    const src = await ort.InferenceSession.create(helperModel, sessionOptions);
    const probs = (await src.run(feeds, [fx.zipmap.input_tensor]))[fx.zipmap.input_tensor];
    await src.release();
    const [n, k] = probs.dims.map(Number);
    if (k !== fx.zipmap.labels.length) throw new Error(`${fx.name}: ${k} columns for ${fx.zipmap.labels.length} labels`);
    const v = values(probs);
    const maps = [];
    for (let r = 0; r < n; r++) {
      const m = {};
      fx.zipmap.labels.forEach((label, j) => {
        m[String(label)] = v[r * k + j];
      });
      maps.push(m);
    }
    const keyType = typeof fx.zipmap.labels[0] === 'string' ? 'string' : 'int64';
    zipped = {
      name: zipName,
      dtype: `seq(map(${keyType},float32))`,
      shape: [n],
      note: `ZipMap output: one map per row, label -> probability (keys are ${keyType} labels, written as JSON strings); taken from the ZipMap's input tensor ${fx.zipmap.input_tensor}`,
      data: new Flat(maps, 1),
    };
  }
  await session.release();

  const outputs = wantOut.map((name) => (name === zipName ? zipped : tensorJSON(name, result[name])));
  const doc = {
    model: fx.model,
    input: fx.input,
    runtime: `onnxruntime-node ${ortVersion} (CPU, 1 thread)`,
    outputs,
  };
  fs.writeFileSync(path.join(dir, fx.expected), toJSON(doc) + '\n');

  let summary = '';
  if (input.reference) {
    const c = compare(fx.name, outputs, input.reference);
    failures.push(...c.failures);
    summary = ` | vs ${input.reference.source.split(' ')[0]}: ${c.summary}`;
  }
  console.log(`${fx.name}: ${outputs.map((o) => `${o.name} ${o.dtype}[${o.shape.join(',')}]`).join(', ')}${summary}`);
}

if (failures.length) {
  console.error(`\n${failures.length} mismatches against the references:`);
  for (const f of failures.slice(0, 50)) console.error('  ' + f);
  process.exit(1);
}
console.log(`wrote ${manifest.fixtures.length} expected outputs with onnxruntime-node ${ortVersion}`);
