import { useEffect, useState, type RefObject } from 'react';
import type { Point } from '../flights';
import type { FlowServiceName } from '../flowModel';

/** Where the diagram puts each service: a wide layout, and a tall one for a phone. */
export interface Layout {
  width: number;
  height: number;
  node: { w: number; h: number };
  bus: { w: number; h: number };
  centres: Record<FlowServiceName, Point>;
}

/** Publishers of comments and posts on the left, the bus in the middle, the other subscribers on the right. */
export const WIDE: Layout = {
  width: 800,
  height: 330,
  node: { w: 184, h: 92 },
  bus: { w: 236, h: 108 },
  centres: { posts: { x: 112, y: 66 }, comments: { x: 112, y: 264 }, 'event-bus': { x: 400, y: 165 }, moderation: { x: 688, y: 66 }, query: { x: 688, y: 264 } },
};

/** A phone: the same places, stacked taller, so the text stays at a readable size. */
export const NARROW: Layout = {
  width: 360,
  height: 480,
  node: { w: 164, h: 92 },
  bus: { w: 236, h: 108 },
  centres: { posts: { x: 86, y: 56 }, comments: { x: 86, y: 424 }, 'event-bus': { x: 180, y: 240 }, moderation: { x: 274, y: 56 }, query: { x: 274, y: 424 } },
};

/** Below this width (CSS pixels) the tall layout keeps the text readable. */
export const NARROW_BELOW_PX = 560;

/** The width of an element, kept current (0 where the browser cannot measure, as in tests). */
export function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver !== 'function') return undefined;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.round(entry?.contentRect.width ?? 0)));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}
