// Parse the listen address given to a comparison server: "host:port", ":port" or "port".
export function parseAddr(arg) {
  const s = String(arg ?? '');
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(s);
  if (!m) {
    console.error(`usage: node ${process.argv[1]} HOST:PORT   (got ${JSON.stringify(s)})`);
    process.exit(2);
  }
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}
