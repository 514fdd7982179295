// The demo's program: a small order-pricing module, as a program would have.
// It knows nothing of tracing.

export interface Item {
  sku: string;
  qty: number;
  unit: number;
}

export const shop = {
  parseOrder(line: string): Item[] {
    return line.split(',').map((part) => {
      const [sku = '', qty = '0', unit = '0'] = part.trim().split(':');
      return { sku, qty: Number(qty), unit: Number(unit) };
    });
  },
  priceItem(item: Item): number {
    return item.qty * item.unit;
  },
  applyDiscount(total: number, code: string): number {
    return code === 'HALF' ? total / 2 : total;
  },
  totalOrder(line: string, code: string): number {
    const items = shop.parseOrder(line);
    let total = 0;
    for (const it of items) total += shop.priceItem(it);
    return shop.applyDiscount(total, code);
  },
};

/** Gives every function of the module a site (at run time, with attach). */
export async function instrument(): Promise<void> {
  const { attach } = await import('../../src/public/index.js');
  for (const key of Object.keys(shop) as (keyof typeof shop)[]) {
    attach(shop, key, { name: `shop.ts:${key}`, file: 'examples/demo/shop.ts' });
  }
}
