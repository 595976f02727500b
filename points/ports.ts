/**
 * Ports: what the points module needs from modules and systems it does not own. Holders are opaque
 * strings (a resident's common ID, a merchant id, a service id); the identity and consent modules
 * decide what they mean. Every port denies or does nothing when no implementation is wired in.
 *
 * An implementation is found, at call time, in `ctx.services['pointsPorts']` (any module assembled
 * before or after points may provide it), or passed to `pointsModule({ ... })` directly. The
 * exchange policy also falls back to the consent module's `mayExchange` when that module is present.
 */

/** Answers whether a resident may move points from one service to another. */
export interface ExchangePolicy {
  /** True when the resident is linked to both services and the data-flow consent exists. */
  mayExchange(query: { resident: string; sourceService: string; targetService: string }): Promise<boolean>;
}

/** An outside wallet (e.g. a digital regional currency) that receives exchanged value. */
export interface ExternalWallet {
  /**
   * Credits the resident's wallet. Must be idempotent on `reference` (the exchange id). Resolves
   * `{ ok: true, walletTxId }` when credited, `{ ok: false, reason }` when refused, `{ queued: true }`
   * when an outbox will deliver it (the adapter then settles or voids the exchange); throws when the
   * outcome is unknown (the exchange then stays pending until posted or voided).
   */
  credit(request: {
    wallet: string;
    resident: string;
    amount: number;
    reference: string;
  }): Promise<{ ok: true; walletTxId: string } | { ok: false; reason: string } | { queued: true }>;
}

/** Delivers notices to residents and merchants per their preferences (balance change, expiry). */
export interface PointsNotifier {
  notify(notice: {
    to: { kind: 'resident' | 'merchant'; holder: string };
    event: 'balance-changed' | 'expiry-soon';
    currency: string;
    amount: number;
    at: Date;
    journalId?: string;
  }): Promise<void>;
}

export interface PointsPorts {
  exchangePolicy?: ExchangePolicy;
  /** External wallets by the currency code that mirrors them. */
  externalWallets?: Record<string, ExternalWallet>;
  notifier?: PointsNotifier;
}

export const DENY_ALL: ExchangePolicy = { mayExchange: async () => false };

/** Resolves the ports at call time: explicit ones first, then `services.pointsPorts`. */
export function portResolver(explicit: PointsPorts, services: Readonly<Record<string, unknown>>) {
  const wired = () => (services['pointsPorts'] ?? {}) as PointsPorts;
  const consent = (): ExchangePolicy | undefined => {
    const c = services['consent'] as Partial<ExchangePolicy> | undefined;
    return typeof c?.mayExchange === 'function' ? { mayExchange: (q) => c.mayExchange!(q) } : undefined;
  };
  return {
    exchangePolicy: (): ExchangePolicy =>
      explicit.exchangePolicy ?? wired().exchangePolicy ?? consent() ?? DENY_ALL,
    externalWallet: (currency: string): ExternalWallet | undefined =>
      explicit.externalWallets?.[currency] ?? wired().externalWallets?.[currency],
    notifier: (): PointsNotifier | undefined => explicit.notifier ?? wired().notifier,
  };
}
export type Ports = ReturnType<typeof portResolver>;
