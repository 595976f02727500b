/** LINE official account adapter (being built; see README.md). */
import type { AdapterFactory } from '../kit/index.ts';

export const lineAdapter: AdapterFactory = () => ({ name: 'line' });
