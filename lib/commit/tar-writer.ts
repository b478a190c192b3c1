/**
 * Tar headers for layer tars (pure): ustar, with a PAX extended header in front when a field does
 * not fit (long or non-ASCII names and link targets, sizes ≥ 8 GiB, big ids) or extended attributes
 * are carried (`SCHILY.xattr.NAME`, as Go's archive/tar and GNU tar write them).
 */

/** One entry of a layer tar. */
export interface TarHeader {
  /** Path inside the layer, without a leading `/`; directories end with `/`. */
  name: string;
  /** `0` file, `1` hard link, `2` symlink, `3` char device, `4` block device, `5` directory, `6` FIFO. */
  type: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  /** Permission bits with setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow (regular files only). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes to carry (name → raw value). */
  xattrs?: [string, Uint8Array][];
}

const enc = new TextEncoder();
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function putString(b: Uint8Array, off: number, len: number, s: Uint8Array): void {
  b.set(s.subarray(0, len), off);
}

function putOctal(b: Uint8Array, off: number, len: number, n: number): void {
  const s = Math.floor(n)
    .toString(8)
    .padStart(len - 1, "0");
  putString(b, off, len, enc.encode(s));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ustar fields take ASCII without NUL; control characters are fine there
const isAscii = (s: string) => /^[\x01-\x7f]*$/.test(s);

/** `LEN key=value\n` where LEN counts the whole record in bytes. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = enc.encode(` ${key}=`).length + value.length + 1;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  const head = enc.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head, 0);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

function ustar(h: {
  name: Uint8Array;
  prefix?: Uint8Array;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: Uint8Array;
  devmajor?: number;
  devminor?: number;
}): Uint8Array {
  const b = new Uint8Array(512);
  putString(b, 0, 100, h.name);
  putOctal(b, 100, 8, h.mode);
  putOctal(b, 108, 8, Math.min(h.uid, MAX_OCTAL_8));
  putOctal(b, 116, 8, Math.min(h.gid, MAX_OCTAL_8));
  putOctal(b, 124, 12, Math.min(h.size, MAX_OCTAL_12));
  putOctal(b, 136, 12, Math.max(0, Math.min(h.mtime, MAX_OCTAL_12)));
  b.fill(0x20, 148, 156);
  b[156] = h.type.charCodeAt(0);
  if (h.linkname) putString(b, 157, 100, h.linkname);
  putString(b, 257, 6, enc.encode("ustar\0"));
  putString(b, 263, 2, enc.encode("00"));
  putOctal(b, 329, 8, h.devmajor ?? 0);
  putOctal(b, 337, 8, h.devminor ?? 0);
  if (h.prefix) putString(b, 345, 155, h.prefix);
  let sum = 0;
  for (const x of b) sum += x;
  putString(b, 148, 7, enc.encode(`${sum.toString(8).padStart(6, "0")}\0`));
  return b;
}

/** Splits a name into ustar prefix (≤ 155) and name (≤ 100) at a `/`, or undefined when it cannot be. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const p = name.slice(0, i);
    const n = name.slice(i + 1);
    if (p.length <= 155 && n.length > 0 && n.length <= 100) return { prefix: p, name: n };
    if (name.length - i - 1 > 100) break;
  }
  return undefined;
}

/** The header block(s) of an entry: a PAX header + its records when needed, then the ustar header. */
export function tarHeader(h: TarHeader): Uint8Array {
  const records: Uint8Array[] = [];
  const split = isAscii(h.name) ? splitName(h.name) : undefined;
  if (!split) records.push(paxRecord("path", enc.encode(h.name)));
  if (h.linkname && (h.linkname.length > 100 || !isAscii(h.linkname))) records.push(paxRecord("linkpath", enc.encode(h.linkname)));
  if (h.size > MAX_OCTAL_12) records.push(paxRecord("size", enc.encode(String(h.size))));
  if (h.uid > MAX_OCTAL_8) records.push(paxRecord("uid", enc.encode(String(h.uid))));
  if (h.gid > MAX_OCTAL_8) records.push(paxRecord("gid", enc.encode(String(h.gid))));
  for (const [k, v] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = ustar({
    name: enc.encode(split ? split.name : h.name.slice(0, 99)),
    prefix: split?.prefix ? enc.encode(split.prefix) : undefined,
    type: h.type,
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime,
    linkname: h.linkname && h.linkname.length <= 100 && isAscii(h.linkname) ? enc.encode(h.linkname) : undefined,
    devmajor: h.devmajor,
    devminor: h.devminor,
  });
  if (records.length === 0) return main;
  const paxLen = records.reduce((n, r) => n + r.length, 0);
  const base = h.name.replace(/\/$/, "").split("/").pop() ?? "";
  const paxHead = ustar({
    name: enc.encode(`PaxHeaders.0/${base}`.slice(0, 99)),
    type: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: paxLen,
    mtime: h.mtime,
  });
  const padded = Math.ceil(paxLen / 512) * 512;
  const out = new Uint8Array(512 + padded + 512);
  out.set(paxHead, 0);
  let off = 512;
  for (const r of records) {
    out.set(r, off);
    off += r.length;
  }
  out.set(main, 512 + padded);
  return out;
}

/** Zero bytes that pad `size` data bytes to a whole block. */
export function tarPadding(size: number): Uint8Array {
  const rem = size % 512;
  return new Uint8Array(rem === 0 ? 0 : 512 - rem);
}

/** The end-of-archive marker: two zero blocks. */
export const TAR_END = new Uint8Array(1024);
