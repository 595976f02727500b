/**
 * `GET /adapters/signin/callback`: our provider returns here after a resident signed in for an
 * adapter page; the result goes to the finisher of the flow that started the sign-in.
 */
import type { ModuleContext } from '../../core/index.ts';
import { bilingual, page } from './html.ts';
import { type ResidentSignIn, SIGN_IN_BASE } from './resident_sign_in.ts';

export function signInRouter(ctx: ModuleContext, signIn: ResidentSignIn) {
  const { router, route } = ctx.http.createRouter(SIGN_IN_BASE);
  route(
    {
      method: 'get',
      path: '/callback',
      summary: 'Resident sign-in callback for adapter pages',
      tags: ['adapters'],
    },
    async (req, res) => {
      const result = await signIn.complete(req, res);
      const finish = result && signIn.finisher(result.purpose);
      if (!result || !finish) {
        res
          .status(400)
          .type('html')
          .send(
            page({
              titleJa: 'サインインできませんでした',
              titleEn: 'Sign-in did not complete',
              body: `<p>${bilingual(
                'もう一度、最初からやり直してください。',
                'Please start again from the beginning.',
              )}</p>`,
            }),
          );
        return;
      }
      await finish(result, req, res);
    },
  );
  return { prefix: SIGN_IN_BASE, router };
}
