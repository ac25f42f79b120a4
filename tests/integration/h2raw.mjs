// h2raw.mjs — a small HTTP/2 frame writer and reader over a raw TCP socket, for the attacks node:http2 will not make:
// a peer that advertises a zero flow-control window and never opens it, and HEADERS+RST_STREAM pairs sent as fast as the
// socket takes them (CVE-2023-44487). Requests are HPACK "literal without indexing, new name" fields (RFC 7541 6.2.2),
// so no header table is needed on our side; responses are read frame by frame (type, flags, stream) without decoding
// their header blocks, except for a leading indexed :status (0x88 = 200, RFC 7541 Appendix A).
import net from 'node:net';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 };
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 };
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(streamId & 0x7fffffff, 5);
    return Buffer.concat([h, payload]);
}

// RFC 7541 5.1 integer with an N-bit prefix (the first byte's other bits are `first`).
function hpackInt(value, prefixBits, first = 0) {
    const max = (1 << prefixBits) - 1;
    if (value < max) return Buffer.from([first | value]);
    const out = [first | max];
    let v = value - max;
    while (v >= 128) {
        out.push((v % 128) + 128);
        v = Math.floor(v / 128);
    }
    out.push(v);
    return Buffer.from(out);
}

function hpackString(s) {
    const b = Buffer.from(s, 'latin1');
    return Buffer.concat([hpackInt(b.length, 7), b]);
}

// A header block of literal fields without indexing (new names): [[name, value], ...].
export function headerBlock(fields) {
    return Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0]), hpackString(n), hpackString(v)]));
}

export function getHeaders(streamId, path, extra = []) {
    const block = headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', 'localhost'], [':path', path], ...extra]);
    return frame(FRAME.HEADERS, FLAG.END_STREAM | FLAG.END_HEADERS, streamId, block);
}

export function rstStream(streamId, code = 8 /* CANCEL */) {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code);
    return frame(FRAME.RST_STREAM, 0, streamId, p);
}

// SETTINGS with {id: value} pairs (4 = INITIAL_WINDOW_SIZE).
export function settings(pairs = {}) {
    const parts = Object.entries(pairs).map(([id, v]) => {
        const b = Buffer.alloc(6);
        b.writeUInt16BE(Number(id));
        b.writeUInt32BE(v, 2);
        return b;
    });
    return frame(FRAME.SETTINGS, 0, 0, Buffer.concat(parts));
}

// A raw HTTP/2 connection. Options: localAddress (the client address the server sees), initialWindow (our
// SETTINGS_INITIAL_WINDOW_SIZE; 0 = the server may send no DATA on any stream). Records per stream: status (200 when
// the header block starts with 0x88, else 'other'), DATA bytes and their text (up to 64 KiB), whether it ended, whether
// the server reset it; every frame of a stream in arrival order (`log`: { type, flags, id, code }); the GOAWAY frames
// and the close of the connection.
export class RawH2 {
    constructor(port, { localAddress = '127.0.0.1', initialWindow = 65535 } = {}) {
        this.streams = new Map();
        this.goaways = [];
        this.log = [];
        this.closed = false;
        this.buf = Buffer.alloc(0);
        this.sock = net.connect({ port, host: '127.0.0.1', localAddress });
        this.sock.on('error', () => {});
        this.sock.on('close', () => (this.closed = true));
        this.sock.on('data', (d) => this.#onData(d));
        this.ready = new Promise((resolve, reject) => {
            this.sock.once('connect', resolve);
            this.sock.once('error', reject);
        });
        this.sock.write(Buffer.concat([PREFACE, settings({ 4: initialWindow })]));
    }

    #stream(id) {
        if (!this.streams.has(id)) this.streams.set(id, { status: null, bytes: 0, text: '', ended: false, reset: null });
        return this.streams.get(id);
    }

    #onData(d) {
        this.buf = Buffer.concat([this.buf, d]);
        while (this.buf.length >= 9) {
            const len = this.buf.readUIntBE(0, 3);
            if (this.buf.length < 9 + len) break;
            const type = this.buf[3], flags = this.buf[4], id = this.buf.readUInt32BE(5) & 0x7fffffff;
            const payload = this.buf.subarray(9, 9 + len);
            this.buf = this.buf.subarray(9 + len);
            if (id !== 0) this.log.push({ type, flags, id, code: type === FRAME.RST_STREAM ? payload.readUInt32BE(0) : null });
            if (type === FRAME.SETTINGS && !(flags & FLAG.ACK)) this.sock.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
            else if (type === FRAME.GOAWAY) this.goaways.push({ lastStream: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) });
            else if (type === FRAME.HEADERS && id !== 0) {
                const s = this.#stream(id);
                s.status = payload[0] === 0x88 ? 200 : 'other';
                if (flags & FLAG.END_STREAM) s.ended = true;
            } else if (type === FRAME.DATA && id !== 0) {
                const s = this.#stream(id);
                s.bytes += len;
                if (s.text.length < 65536) s.text += payload.toString('utf8');
                if (flags & FLAG.END_STREAM) s.ended = true;
            } else if (type === FRAME.RST_STREAM && id !== 0) this.#stream(id).reset = payload.readUInt32BE(0);
        }
    }

    write(bytes) {
        return this.sock.write(bytes);
    }

    // Resolves when everything written so far has been handed to the kernel.
    drained() {
        return this.sock.writableNeedDrain ? new Promise((r) => this.sock.once('drain', r)) : Promise.resolve();
    }

    close() {
        this.sock.destroy();
    }
}
