/** CIDR lists as node:net BlockLists (no hand-written address parsing). */
import { BlockList, isIP } from "node:net";
import { TesseraError } from "@tessera/protocol";

export function parseCidrs(cidrs: readonly string[], field: string): BlockList {
  const list = new BlockList();
  cidrs.forEach((cidr, i) => {
    const [ip, bits] = cidr.split("/");
    const family = isIP(ip ?? "");
    const max = family === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || (bits !== undefined && !/^\d+$/.test(bits)) || prefix > max) {
      throw new TesseraError("InvalidInput", `"${cidr}" is not a CIDR like 10.0.0.0/8`, { field: `${field}/${i}` });
    }
    list.addSubnet(ip!, prefix, family === 6 ? "ipv6" : "ipv4");
  });
  return list;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
export function normaliseAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export function addressIn(list: BlockList, address: string): boolean {
  const ip = normaliseAddress(address);
  return isIP(ip) !== 0 && list.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4");
}
