/** Health-app CSV import adapter (being built; see README.md). */
import type { AdapterFactory } from '../kit/index.ts';

export const healthAdapter: AdapterFactory = () => ({ name: 'health' });
