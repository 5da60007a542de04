// What the browser tests measure of a page at a given width: nothing past the page, no key figure cut.
import type { Page } from 'playwright-core';

/** The page's scroll width against its width, and each key-figure card whose value (or its unit) is cut. */
export async function fits(page: Page): Promise<{ page: number[]; clipped: string[] }> {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const clipped = Array.from(document.querySelectorAll('.kpi')).flatMap((card) => {
      const edge = card.getBoundingClientRect().right;
      const v = card.querySelector('.v') as HTMLElement;
      const out = Array.from(v.querySelectorAll('small')).some((u) => u.getBoundingClientRect().right > edge);
      return v.scrollWidth > v.clientWidth || out ? [`${v.textContent} (${v.scrollWidth} > ${v.clientWidth})`] : [];
    });
    return { page: [doc.scrollWidth, doc.clientWidth], clipped };
  });
}
