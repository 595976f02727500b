/**
 * The one script our pages load (served as `/idp/passkeys/client.js`, same origin, so the
 * Content-Security-Policy `script-src 'self'` holds): it turns the server's WebAuthn options (JSON,
 * base64url) into `navigator.credentials` calls and posts the answers back. Buttons opt in with data
 * attributes; without JavaScript or WebAuthn the buttons explain that and the other methods remain.
 *
 *   <button data-passkey-login data-options="…/passkey/options" data-verify="…/passkey">
 *   <button data-passkey-register data-options="…" data-verify="…" form="signup-form">
 */
export const PASSKEY_CLIENT_JS = `(() => {
  'use strict';
  const toBuf = (s) => {
    const b = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b + '==='.slice((b.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const fromBuf = (buf) => {
    let bin = '';
    for (const byte of new Uint8Array(buf)) bin += String.fromCharCode(byte);
    return btoa(bin).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  };
  const post = async (url, body) => {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    return res.json();
  };
  const say = (button, text) => {
    const status = document.getElementById(button.dataset.status || 'passkey-status');
    if (status) status.textContent = text;
  };
  const unsupported = '\\u3053\\u306e\\u30d6\\u30e9\\u30a6\\u30b6\\u3067\\u306f\\u30d1\\u30b9\\u30ad\\u30fc\\u3092\\u4f7f\\u3048\\u307e\\u305b\\u3093\\u3002 / Passkeys are not available in this browser.';
  const failed = '\\u30d1\\u30b9\\u30ad\\u30fc\\u3092\\u78ba\\u8a8d\\u3067\\u304d\\u307e\\u305b\\u3093\\u3067\\u3057\\u305f\\u3002 / The passkey could not be verified.';

  for (const button of document.querySelectorAll('[data-passkey-login]')) {
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      if (!window.PublicKeyCredential) return say(button, unsupported);
      try {
        const options = await post(button.dataset.options, {});
        options.challenge = toBuf(options.challenge);
        options.allowCredentials = (options.allowCredentials || []).map((c) => ({ ...c, id: toBuf(c.id) }));
        const cred = await navigator.credentials.get({ publicKey: options });
        const r = cred.response;
        const out = await post(button.dataset.verify, {
          id: cred.id,
          rawId: fromBuf(cred.rawId),
          type: cred.type,
          clientExtensionResults: cred.getClientExtensionResults(),
          response: {
            clientDataJSON: fromBuf(r.clientDataJSON),
            authenticatorData: fromBuf(r.authenticatorData),
            signature: fromBuf(r.signature),
            ...(r.userHandle ? { userHandle: fromBuf(r.userHandle) } : {}),
          },
        });
        if (out.redirect) window.location.assign(out.redirect);
        else say(button, out.message || failed);
      } catch {
        say(button, failed);
      }
    });
  }

  for (const button of document.querySelectorAll('[data-passkey-register]')) {
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      const form = document.getElementById(button.getAttribute('form'));
      if (form && !form.reportValidity()) return;
      if (!window.PublicKeyCredential) return say(button, unsupported);
      try {
        const options = await post(button.dataset.options, {});
        options.challenge = toBuf(options.challenge);
        options.user.id = toBuf(options.user.id);
        options.excludeCredentials = (options.excludeCredentials || []).map((c) => ({ ...c, id: toBuf(c.id) }));
        const cred = await navigator.credentials.create({ publicKey: options });
        const r = cred.response;
        const fields = form ? Object.fromEntries(new FormData(form)) : {};
        delete fields.password;
        const out = await post(button.dataset.verify, {
          fields,
          credential: {
            id: cred.id,
            rawId: fromBuf(cred.rawId),
            type: cred.type,
            clientExtensionResults: cred.getClientExtensionResults(),
            response: {
              clientDataJSON: fromBuf(r.clientDataJSON),
              attestationObject: fromBuf(r.attestationObject),
              transports: r.getTransports ? r.getTransports() : [],
            },
          },
        });
        if (out.redirect) window.location.assign(out.redirect);
        else say(button, out.message || failed);
      } catch {
        say(button, failed);
      }
    });
  }
})();
`;
