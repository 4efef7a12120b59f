import { describe, expect, it } from "vitest";
import { ListVerbRewriter } from "./list-verb.js";

const MARKER = "x-tessera-vault-list: 1\r\n";

/** Feeds `input` to a fresh rewriter in pieces of `size` bytes and returns everything it forwards. */
function run(input: string, size = input.length): { out: string; passthrough: boolean } {
  const r = new ListVerbRewriter();
  const bytes = Buffer.from(input, "latin1");
  let out = "";
  for (let i = 0; i < bytes.length; i += size) out += r.push(bytes.subarray(i, i + size)).toString("latin1");
  return { out, passthrough: r.passingThrough };
}

describe("ListVerbRewriter", () => {
  it("rewrites a LIST request line to GET plus the marker header", () => {
    expect(run("LIST /v1/transit/keys HTTP/1.1\r\nHost: x\r\n\r\n").out).toBe(`GET /v1/transit/keys HTTP/1.1\r\n${MARKER}Host: x\r\n\r\n`);
  });

  it("rewrites the same whatever the chunking, byte by byte included", () => {
    const input = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nLIST /b HTTP/1.1\r\nHost: x\r\n\r\n";
    const expected = `GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n${MARKER}Host: x\r\n\r\n`;
    for (const size of [1, 2, 3, 5, 7, 64]) expect(run(input, size).out, `chunks of ${size}`).toBe(expected);
  });

  it("leaves every other method alone, including those that share LIST's first letters", () => {
    for (const input of ["LINK /a HTTP/1.1\r\n\r\n", "LOCK /a HTTP/1.1\r\n\r\n", "POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "LISTEN /a HTTP/1.1\r\n\r\n"]) {
      expect(run(input, 1).out).toBe(input);
    }
  });

  it("never rewrites a body: LIST at the start of a Content-Length body is data", () => {
    const body = "LIST /x HTTP/1.1\r\n\r\n";
    const input = `POST /a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}LIST /c HTTP/1.1\r\n\r\n`;
    const expected = `POST /a HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /c HTTP/1.1\r\n${MARKER}\r\n`;
    for (const size of [1, 4, 1000]) expect(run(input, size).out).toBe(expected);
  });

  it("never rewrites a chunked body, and finds the request after its trailers", () => {
    const input = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nLIST \r\n0\r\nX-Trailer: 1\r\n\r\nLIST /d HTTP/1.1\r\n\r\n";
    const expected = `POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nLIST \r\n0\r\nX-Trailer: 1\r\n\r\nGET /d HTTP/1.1\r\n${MARKER}\r\n`;
    for (const size of [1, 3, 1000]) expect(run(input, size).out).toBe(expected);
  });

  it("passes through for good whatever it cannot frame with certainty", () => {
    for (const head of [
      "POST /a HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
      "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST /a HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
      "GET /a HTTP/1.1\r\nContent-Length 5\r\n\r\n",
      "GET /a HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
      "CONNECT host:443 HTTP/1.1\r\n\r\n",
      "GET /a HTTP/1.1\nHost: x\n\n",
    ]) {
      const input = `${head}LIST /z HTTP/1.1\r\n\r\n`;
      const r = run(input);
      expect(r.out, head).toBe(input);
      expect(r.passthrough, head).toBe(true);
    }
  });

  it("forwards at most the four bytes of a possible LIST prefix before the parser sees them", () => {
    const r = new ListVerbRewriter();
    expect(r.push(Buffer.from("LIST")).length).toBe(0);
    expect(r.push(Buffer.from("X")).toString()).toBe("LISTX");
    const s = new ListVerbRewriter();
    expect(s.push(Buffer.from("GET /slow")).toString()).toBe("GET /slow");
  });
});
