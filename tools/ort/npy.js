'use strict';
// Minimal, dependency-free .npy / .npz reader and .npy writer.
//
// Arrays are represented as {dtype, shape, data} where dtype is an
// onnxruntime tensor type string ('float32', 'int64', 'bool', ...), shape is
// an array of numbers, and data is the matching typed array in C order
// (bool -> Uint8Array, float16 -> Uint16Array holding the raw bits).

const fs = require('fs');
const zlib = require('zlib');

// numpy kind+size -> [ort type, TypedArray constructor, itemsize]
const NPY_TO_ORT = {
  b1: ['bool', Uint8Array, 1],
  u1: ['uint8', Uint8Array, 1],
  i1: ['int8', Int8Array, 1],
  u2: ['uint16', Uint16Array, 2],
  i2: ['int16', Int16Array, 2],
  u4: ['uint32', Uint32Array, 4],
  i4: ['int32', Int32Array, 4],
  u8: ['uint64', BigUint64Array, 8],
  i8: ['int64', BigInt64Array, 8],
  f2: ['float16', Uint16Array, 2],
  f4: ['float32', Float32Array, 4],
  f8: ['float64', Float64Array, 8],
};

const ORT_TO_NPY = {};
for (const [k, v] of Object.entries(NPY_TO_ORT)) ORT_TO_NPY[v[0]] = k;

const TYPED_ARRAY_FOR = {};
for (const v of Object.values(NPY_TO_ORT)) TYPED_ARRAY_FOR[v[0]] = v[1];

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

class NpyError extends Error {}

function product(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function parseHeaderDict(text, where) {
  // e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new NpyError(`${where}: cannot parse .npy header: ${JSON.stringify(text.trim())}`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new NpyError(`${where}: bad dimension '${s}' in .npy header`);
      return v;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims };
}

function byteswapInPlace(u8, itemsize) {
  if (itemsize === 1) return;
  for (let i = 0; i < u8.length; i += itemsize) {
    for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
      const t = u8[a];
      u8[a] = u8[b];
      u8[b] = t;
    }
  }
}

// Convert a Fortran-ordered element array into C order (generic permutation).
function fortranToC(src, shape) {
  const n = src.length;
  const nd = shape.length;
  if (nd <= 1 || n === 0) return src;
  const dst = new src.constructor(n);
  // strides of the Fortran layout
  const fstride = new Array(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = s;
    s *= shape[k];
  }
  const idx = new Array(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let k = 0; k < nd; k++) off += idx[k] * fstride[k];
    dst[i] = src[off];
    // increment C-order multi-index
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return dst;
}

/** Parse .npy bytes. `where` is used for error messages (file name). */
function parseNpy(buf, where = '<buffer>') {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyError(`${where}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(`${where}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyError(`${where}: unsupported .npy format version ${major}.${buf[7]}`);
  }
  if (headerStart + headerLen > buf.length) throw new NpyError(`${where}: truncated .npy header`);
  const text = buf.subarray(headerStart, headerStart + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const hdr = parseHeaderDict(text, where);

  const m = /^([<>|=])?([a-zA-Z?])(\d+)$/.exec(hdr.descr);
  if (!m) throw new NpyError(`${where}: unsupported dtype '${hdr.descr}' (structured/object arrays are not supported)`);
  const order = m[1] || '|';
  const key = m[2] + m[3];
  const info = NPY_TO_ORT[key === '?1' ? 'b1' : key];
  if (!info) {
    throw new NpyError(
      `${where}: unsupported dtype '${hdr.descr}' (supported: ${Object.keys(NPY_TO_ORT).join(', ')})`,
    );
  }
  const [dtype, Ctor, itemsize] = info;
  const count = product(hdr.shape);
  const dataStart = headerStart + headerLen;
  const nbytes = count * itemsize;
  if (buf.length - dataStart < nbytes) {
    throw new NpyError(
      `${where}: truncated data: expected ${nbytes} bytes for shape [${hdr.shape}] ${hdr.descr}, found ${buf.length - dataStart}`,
    );
  }
  // copy into a fresh, aligned buffer
  const bytes = new Uint8Array(nbytes);
  bytes.set(buf.subarray(dataStart, dataStart + nbytes));
  const bigEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
  if (itemsize > 1 && ((order === '>' && !bigEndianHost) || (order === '<' && bigEndianHost))) {
    byteswapInPlace(bytes, itemsize);
  }
  let data = new Ctor(bytes.buffer, 0, count);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  }
  if (hdr.fortranOrder) data = fortranToC(data, hdr.shape);
  return { dtype, shape: hdr.shape, data };
}

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new NpyError(`${file}: cannot read: ${e.message}`);
  }
  return parseNpy(buf, file);
}

/** Serialize {dtype, shape, data} to .npy bytes (v1 header, or v2 if the header is huge). */
function encodeNpy(arr) {
  const key = ORT_TO_NPY[arr.dtype];
  if (!key) throw new NpyError(`cannot write dtype '${arr.dtype}' to .npy`);
  const itemsize = NPY_TO_ORT[key][2];
  const descr = key === 'b1' ? '|b1' : itemsize === 1 ? '|' + key : '<' + key;
  const shapeStr = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  let version = 1;
  let pre = 10;
  let total = pre + dict.length + 1;
  let pad = (64 - (total % 64)) % 64;
  if (dict.length + 1 + pad > 0xffff) {
    version = 2;
    pre = 12;
    total = pre + dict.length + 1;
    pad = (64 - (total % 64)) % 64;
  }
  const header = dict + ' '.repeat(pad) + '\n';
  const head = Buffer.alloc(pre);
  MAGIC.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);

  const count = product(arr.shape);
  let data = arr.data;
  if (data.length !== count) {
    throw new NpyError(`data length ${data.length} does not match shape [${arr.shape}]`);
  }
  const Ctor = TYPED_ARRAY_FOR[arr.dtype];
  if (!(data instanceof Ctor)) data = Ctor.from(data);
  if (arr.dtype === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

function writeNpy(file, arr) {
  fs.writeFileSync(file, encodeNpy(arr));
}

// ---- .npz (zip) -------------------------------------------------------------

function findEocd(buf) {
  const min = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) return i;
  }
  return -1;
}

function readBig(buf, off) {
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NpyError('zip64 value too large');
  return Number(v);
}

/** List entries of a zip archive: [{name, method, compSize, size, localOffset}] */
function listZip(buf, where) {
  const eocd = findEocd(buf);
  if (eocd < 0) throw new NpyError(`${where}: not a zip/.npz file (no end-of-central-directory record)`);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOff = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    // zip64 end of central directory locator precedes EOCD
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new NpyError(`${where}: bad zip64 locator`);
    const z64 = readBig(buf, loc + 8);
    if (buf.readUInt32LE(z64) !== 0x06064b50) throw new NpyError(`${where}: bad zip64 end record`);
    count = readBig(buf, z64 + 32);
    cdSize = readBig(buf, z64 + 40);
    cdOff = readBig(buf, z64 + 48);
  }
  const entries = [];
  let p = cdOff;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) {
      throw new NpyError(`${where}: corrupt zip central directory`);
    }
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let compSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // zip64 extended information extra field
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = readBig(buf, q);
          q += 8;
        }
        if (compSize === 0xffffffff) {
          compSize = readBig(buf, q);
          q += 8;
        }
        if (localOffset === 0xffffffff) {
          localOffset = readBig(buf, q);
          q += 8;
        }
      }
      e += 4 + len;
    }
    if (flags & 0x1) throw new NpyError(`${where}: encrypted zip entry '${name}' is not supported`);
    entries.push({ name, method, compSize, size, localOffset });
    p = eEnd + commentLen;
  }
  return entries;
}

function zipEntryData(buf, ent, where) {
  const lh = ent.localOffset;
  if (buf.readUInt32LE(lh) !== 0x04034b50) throw new NpyError(`${where}: bad local header for '${ent.name}'`);
  const nameLen = buf.readUInt16LE(lh + 26);
  const extraLen = buf.readUInt16LE(lh + 28);
  const start = lh + 30 + nameLen + extraLen;
  const raw = buf.subarray(start, start + ent.compSize);
  if (ent.method === 0) return raw;
  if (ent.method === 8) {
    const out = zlib.inflateRawSync(raw);
    if (out.length !== ent.size) throw new NpyError(`${where}: '${ent.name}' inflated to wrong size`);
    return out;
  }
  throw new NpyError(`${where}: '${ent.name}' uses unsupported zip compression method ${ent.method}`);
}

/** Read an .npz file -> Map(name -> array). Names have the '.npy' suffix removed. */
function readNpz(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new NpyError(`${file}: cannot read: ${e.message}`);
  }
  const out = new Map();
  for (const ent of listZip(buf, file)) {
    if (ent.name.endsWith('/')) continue;
    const name = ent.name.endsWith('.npy') ? ent.name.slice(0, -4) : ent.name;
    out.set(name, parseNpy(zipEntryData(buf, ent, file), `${file}:${ent.name}`));
  }
  return out;
}

module.exports = {
  NpyError,
  parseNpy,
  readNpy,
  encodeNpy,
  writeNpy,
  readNpz,
  product,
  TYPED_ARRAY_FOR,
};
