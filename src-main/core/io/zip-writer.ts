// A small streaming ZIP writer (PKWARE APPNOTE 6.3, no ZIP64): entries are copied from disk in chunks through
// node:zlib's raw deflate (or stored, for already-compressed images), so an archive of any number of files is
// written with bounded memory. The output is a file we can seek in, so each local header is patched with its
// CRC and sizes after the data (no data descriptors: every unzip tool reads the result).
import { createReadStream } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { constants, crc32, createDeflateRaw } from 'node:zlib';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const UTF8 = 0x0800;
const MAX32 = 0xffffffff;

/** Formats that are compressed already: deflating them again costs time and saves nothing. */
const STORED = /\.(jpe?g|png|webp|gif|zip|gz|bz2|xz|zst|safetensors|bin|onnx)$/i;

interface Entry {
  name: Buffer;
  method: 0 | 8;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  time: number;
  date: number;
}

function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipWriter {
  private entries: Entry[] = [];
  private pos = 0;
  private names = new Set<string>();

  private constructor(private fh: FileHandle) {}

  static async create(file: string): Promise<ZipWriter> {
    return new ZipWriter(await open(file, 'w'));
  }

  private async write(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) done += (await this.fh.write(buf, done, buf.length - done, this.pos + done)).bytesWritten;
    this.pos += buf.length;
  }

  private checkName(name: string): Buffer {
    const n = name.replace(/\\/g, '/');
    if (!n || n.startsWith('/') || n.split('/').some((s) => s === '..' || s === '') || n.includes('\0')) throw new Error(`zip entry name '${name}' is not a safe relative path`);
    if (this.names.has(n)) throw new Error(`zip entry '${n}' was added twice`);
    this.names.add(n);
    return Buffer.from(n, 'utf8');
  }

  /** Adds one entry whose bytes come from `chunks` (a file read stream or a single buffer). */
  private async add(name: string, chunks: AsyncIterable<Buffer>, compress: boolean, signal?: AbortSignal): Promise<void> {
    const nameBuf = this.checkName(name);
    const offset = this.pos;
    const { time, date } = dosTime(new Date());
    const method: 0 | 8 = compress ? 8 : 0;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(LOCAL, 0);
    header.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    header.writeUInt16LE(UTF8, 6);
    header.writeUInt16LE(method, 8);
    header.writeUInt16LE(time, 10);
    header.writeUInt16LE(date, 12);
    // crc and sizes (14..25) are patched after the data
    header.writeUInt16LE(nameBuf.length, 26);
    header.writeUInt16LE(0, 28);
    await this.write(Buffer.concat([header, nameBuf]));
    const dataStart = this.pos;
    let crc = 0;
    let usize = 0;
    if (method === 8) {
      const deflate = createDeflateRaw({ level: constants.Z_DEFAULT_COMPRESSION });
      const drained = (async () => {
        for await (const out of deflate as AsyncIterable<Buffer>) await this.write(out);
      })();
      try {
        for await (const chunk of chunks) {
          if (signal?.aborted) throw new Error('cancelled');
          crc = crc32(chunk, crc);
          usize += chunk.length;
          if (!deflate.write(chunk)) await new Promise<void>((r) => deflate.once('drain', r));
        }
        deflate.end();
        await drained;
      } catch (err) {
        deflate.destroy();
        await drained.catch(() => undefined);
        throw err;
      }
    } else {
      for await (const chunk of chunks) {
        if (signal?.aborted) throw new Error('cancelled');
        crc = crc32(chunk, crc);
        usize += chunk.length;
        await this.write(chunk);
      }
    }
    const csize = this.pos - dataStart;
    if (usize > MAX32 || csize > MAX32 || this.pos > MAX32) throw new Error(`zip entry '${name}' makes the archive larger than 4 GiB, which needs ZIP64 (not supported)`);
    const patch = Buffer.alloc(12);
    patch.writeUInt32LE(crc >>> 0, 0);
    patch.writeUInt32LE(csize, 4);
    patch.writeUInt32LE(usize, 8);
    await this.fh.write(patch, 0, 12, offset + 14);
    this.entries.push({ name: nameBuf, method, crc: crc >>> 0, csize, usize, offset, time, date });
  }

  addFile(name: string, path: string, signal?: AbortSignal): Promise<void> {
    return this.add(name, createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, !STORED.test(name), signal);
  }

  addBuffer(name: string, bytes: Buffer | string): Promise<void> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    return this.add(name, (async function* () {
      yield buf;
    })(), !STORED.test(name) && buf.length > 64);
  }

  /** Writes the central directory and closes the file; returns the archive's size in bytes. */
  async finish(): Promise<number> {
    if (this.entries.length > 0xffff) throw new Error(`${this.entries.length} files need ZIP64 (more than 65,535 entries), which is not supported`);
    const cdStart = this.pos;
    for (const e of this.entries) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(CENTRAL, 0);
      h.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0 (so the mode bits below are read)
      h.writeUInt16LE(20, 6);
      h.writeUInt16LE(UTF8, 8);
      h.writeUInt16LE(e.method, 10);
      h.writeUInt16LE(e.time, 12);
      h.writeUInt16LE(e.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.csize, 20);
      h.writeUInt32LE(e.usize, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
      h.writeUInt32LE(e.offset, 42);
      await this.write(Buffer.concat([h, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.pos - cdStart, 12);
    end.writeUInt32LE(cdStart, 16);
    await this.write(end);
    await this.fh.close();
    return this.pos;
  }

  /** Closes the file without finishing (after an error or cancel); the caller deletes it. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** Every regular file under `dir`, as sorted relative paths with forward slashes. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!d.isFile()) continue;
    const parent = (d as { parentPath?: string; path?: string }).parentPath ?? (d as { path?: string }).path ?? dir;
    out.push(relative(dir, join(parent, d.name)).split(sep).join('/'));
  }
  return out.sort();
}

/** Zips the contents of `dir` into `file` (entries under `prefix/` when given), with progress and cancel. */
export async function zipFolder(dir: string, file: string, opts: { prefix?: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<{ bytes: number; files: number }> {
  const files = await filesUnder(dir);
  const zip = await ZipWriter.create(file);
  try {
    for (let i = 0; i < files.length; i++) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      await zip.addFile(opts.prefix ? `${opts.prefix}/${files[i]}` : files[i], join(dir, files[i]), opts.signal);
      opts.onProgress?.(i + 1, files.length);
    }
    return { bytes: await zip.finish(), files: files.length };
  } catch (err) {
    await zip.abort();
    throw err;
  }
}
