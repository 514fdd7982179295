// An order service's work without the network: parse orders, check stock
// (asynchronously, as a database would answer), price them, write receipts.
// It knows nothing of tracing: `npm run demo` records it with the jsftrace
// CLI and renders the trace as text, a flame graph and a Perfetto file.

interface Line {
  sku: string;
  qty: number;
  unit: number;
}

class OutOfStock extends Error {
  readonly sku: string;
  constructor(sku: string) {
    super(`out of stock: ${sku}`);
    this.sku = sku;
  }
}

const stock = new Map<string, number>([['apple', 50], ['pear', 20], ['fig', 5], ['kiwi', 0]]);
const prices = new Map<string, number>([['apple', 3], ['pear', 5], ['fig', 12], ['kiwi', 4]]);

function parseOrder(text: string): Line[] {
  return text.split(',').map((part) => {
    const [sku = '', qty = '0'] = part.trim().split(':');
    return { sku, qty: Number(qty), unit: prices.get(sku) ?? 0 };
  });
}

function priceLine(l: Line): number {
  return l.qty * l.unit;
}

function applyDiscount(total: number, code: string | undefined): number {
  return code === 'HALF' ? Math.round(total / 2) : total;
}

async function checkStock(sku: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 1));
  return stock.get(sku) ?? 0;
}

async function reserve(lines: Line[]): Promise<void> {
  for (const l of lines) {
    if ((await checkStock(l.sku)) < l.qty) throw new OutOfStock(l.sku);
  }
  for (const l of lines) stock.set(l.sku, (stock.get(l.sku) ?? 0) - l.qty);
}

function receipt(id: number, lines: Line[], total: number): string {
  return `#${id}: ${lines.map((l) => `${l.qty} ${l.sku}`).join(', ')} = ${total}`;
}

async function fulfil(id: number, text: string, code?: string): Promise<string> {
  const lines = parseOrder(text);
  await reserve(lines);
  let total = 0;
  for (const l of lines) total += priceLine(l);
  return receipt(id, lines, applyDiscount(total, code));
}

async function main(): Promise<void> {
  const orders: [string, string?][] = [
    ['apple:3, pear:2'], ['fig:2', 'HALF'], ['kiwi:1, apple:1'], ['pear:4, fig:1, apple:10'], ['fig:9'],
  ];
  let failed = 0;
  for (const [i, [text, code]] of orders.entries()) {
    try {
      console.log(await fulfil(i + 1, text, code));
    } catch (e) {
      failed++;
      console.log(`#${i + 1}: refused (${(e as Error).message})`);
    }
  }
  console.log(`${orders.length - failed} orders fulfilled, ${failed} refused`);
}

await main();
