/** A FIFO of received chunks that hands out byte ranges without copying where it can. */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The first `n` bytes (n ≤ length) as one buffer, without consuming them. */
  peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    const parts: Buffer[] = [];
    let have = 0;
    for (const chunk of this.#chunks) {
      if (have >= n) break;
      parts.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(parts, have).subarray(0, n);
  }

  /** Removes and returns the first `n` bytes (n ≤ length) as pieces in order. */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    let want = n;
    while (want > 0) {
      const head = this.#chunks[0]!;
      if (head.length <= want) {
        out.push(head);
        this.#chunks.shift();
        want -= head.length;
      } else {
        out.push(head.subarray(0, want));
        this.#chunks[0] = head.subarray(want);
        want = 0;
      }
    }
    this.#length -= n;
    return out;
  }

  /** Removes the first `n` bytes and returns them as one buffer. */
  takeJoined(n: number): Buffer {
    const parts = this.take(n);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }
}
