/*
 * Prepaid Credits console: drop-in web components for a SaaS's own console.
 *
 * One self-contained file, no dependencies, no build step: load it with
 *   <script src="credits-console.js"></script>   (or type="module")
 * and place the elements. See console/README.md for the elements, attributes, events and theming.
 *
 * Every element talks to the Prepaid Credits HTTP API with the bearer token the host page already has for
 * its signed-in user: set `api`, `account` and `token` on each element, or once for the page with
 * CreditsConsole.configure({api, account, token, locale}).
 */
(function () {
  'use strict';

  if (window.CreditsConsole) return; // loaded twice: the first definitions stand

  // ---------------------------------------------------------------------------------------------------
  // Page-wide settings, formatting and the API client

  const page = {api: '', account: '', token: '', locale: undefined};
  const elements = new Set();

  function configure(settings) {
    Object.assign(page, settings || {});
    for (const element of elements) element.settingsChanged();
  }

  const escapes = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
  function esc(value) {
    return String(value === null || value === undefined ? '' : value).replace(/[&<>"']/g, (c) => escapes[c]);
  }

  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status;
      this.code = code;
      this.body = body;
    }
  }

  function minorDigits(currency) {
    try {
      return new Intl.NumberFormat('en', {style: 'currency', currency}).resolvedOptions().maximumFractionDigits;
    } catch (e) {
      return 2;
    }
  }

  class Format {
    constructor(locale) {
      this.locale = locale || undefined;
      this.integer = new Intl.NumberFormat(this.locale, {maximumFractionDigits: 0});
    }
    credits(n) {
      return this.integer.format(n);
    }
    signed(n) {
      return new Intl.NumberFormat(this.locale, {signDisplay: 'exceptZero', maximumFractionDigits: 0}).format(n);
    }
    money(minor, currency) {
      const code = (currency || 'usd').toUpperCase();
      const digits = minorDigits(code);
      return new Intl.NumberFormat(this.locale, {style: 'currency', currency: code}).format(minor / 10 ** digits);
    }
    // money for fractional minor units (value of credits at a rate), to the currency's precision
    moneyExact(minorFloat, currency) {
      return this.money(Math.round(minorFloat), currency);
    }
    percent(ratio) {
      return new Intl.NumberFormat(this.locale, {style: 'percent', maximumFractionDigits: 0}).format(ratio);
    }
    date(iso) {
      if (!iso) return '';
      return new Intl.DateTimeFormat(this.locale, {dateStyle: 'medium'}).format(new Date(iso));
    }
    dateTime(iso) {
      if (!iso) return '';
      return new Intl.DateTimeFormat(this.locale, {dateStyle: 'medium', timeStyle: 'short'}).format(new Date(iso));
    }
    day(isoDate) {
      // a calendar day (YYYY-MM-DD) in UTC, as the API reports days
      return new Intl.DateTimeFormat(this.locale, {month: 'short', day: 'numeric', timeZone: 'UTC'}).format(
        new Date(isoDate + 'T00:00:00Z'));
    }
    duration(seconds) {
      // "3 days", "5 hours": the largest unit that reads as at least 1 (rounded)
      const units = [['month', 30 * 86400], ['week', 7 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60]];
      let [unit, size] = units[units.length - 1];
      for (const [u, s] of units) {
        if (seconds >= s * (u === 'week' ? 2 : u === 'month' ? 2 : 1)) {
          [unit, size] = [u, s];
          break;
        }
      }
      const value = Math.max(1, Math.round(seconds / size));
      return new Intl.NumberFormat(this.locale, {style: 'unit', unit, unitDisplay: 'long'}).format(value);
    }
  }

  const ENTRY_TYPES = ['purchase', 'auto_top_up', 'grant', 'consumption', 'hold', 'capture', 'release', 'refund',
    'dispute', 'expiry', 'adjustment'];
  const TYPE_LABELS = {
    purchase: 'Purchase', auto_top_up: 'Auto top-up', grant: 'Grant', consumption: 'Usage', hold: 'Hold',
    capture: 'Capture', release: 'Release', refund: 'Refund', dispute: 'Dispute', expiry: 'Expiry',
    adjustment: 'Adjustment',
  };
  const DISABLED_REASONS = {
    authentication_required: 'Your bank asked to authenticate a top-up payment, which cannot happen ' +
      'automatically. Turn auto top-up on again after a purchase with your card.',
    hard_decline: 'Your card was declined for good (for example expired or blocked). Add a new card with a ' +
      'purchase, then turn auto top-up on again.',
    repeated_failures: 'Three top-up payments failed in a row. Check your card, then turn auto top-up on again.',
  };

  // ---------------------------------------------------------------------------------------------------
  // Styles: every colour, font and radius is a CSS custom property the host page can set

  const STYLE = `
    :host {
      display: block;
      font-family: var(--credits-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
      font-size: var(--credits-font-size, 15px);
      color: var(--credits-color-text, #1f2328);
      --_surface: var(--credits-color-surface, #ffffff);
      --_border: var(--credits-color-border, #d0d7de);
      --_muted: var(--credits-color-muted, #57606a);
      --_accent: var(--credits-color-accent, #1f5fbf);
      --_accent-text: var(--credits-color-accent-text, #ffffff);
      --_danger: var(--credits-color-danger, #b42318);
      --_warning-bg: var(--credits-color-warning-bg, #fff4d6);
      --_warning: var(--credits-color-warning, #7a4b00);
      --_success: var(--credits-color-success, #176b37);
      --_radius: var(--credits-radius, 8px);
      --_gap: var(--credits-spacing, 16px);
    }
    :host([hidden]) { display: none; }
    * { box-sizing: border-box; }
    .panel { background: var(--_surface); border: 1px solid var(--_border); border-radius: var(--_radius);
      padding: var(--_gap); }
    h2 { font-size: 1.15em; margin: 0 0 calc(var(--_gap) * .75); }
    h3 { font-size: 1em; margin: var(--_gap) 0 calc(var(--_gap) / 2); }
    p { margin: 0 0 calc(var(--_gap) / 2); }
    .muted { color: var(--_muted); }
    .big { font-size: 2em; font-weight: 600; line-height: 1.1; }
    .row { display: flex; flex-wrap: wrap; gap: var(--_gap); align-items: baseline; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(9em, 1fr)); gap: calc(var(--_gap) / 2)
      var(--_gap); margin: var(--_gap) 0; }
    dl { margin: 0; } dt { color: var(--_muted); font-size: .85em; } dd { margin: 0; font-weight: 600; }
    button { font: inherit; border-radius: var(--_radius); padding: .45em 1em; cursor: pointer;
      border: 1px solid var(--_border); background: var(--_surface); color: inherit; }
    button.primary { background: var(--_accent); color: var(--_accent-text); border-color: var(--_accent); }
    button:disabled { opacity: .6; cursor: not-allowed; }
    button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible {
      outline: 3px solid var(--credits-color-focus, #0a58ca); outline-offset: 2px; }
    input, select { font: inherit; padding: .35em .5em; border: 1px solid var(--credits-color-input-border, #6e7781);
      border-radius: calc(var(--_radius) / 2); background: var(--_surface); color: inherit; }
    label { display: block; font-weight: 500; margin-bottom: .25em; }
    .field { margin-bottom: var(--_gap); }
    .hint { color: var(--_muted); font-size: .88em; margin-top: .25em; }
    .invalid { color: var(--_danger); font-size: .9em; margin-top: .25em; }
    .badge { display: inline-block; padding: .15em .6em; border-radius: 999px; font-size: .8em; font-weight: 600;
      background: var(--_warning-bg); color: var(--_warning); }
    .error { color: var(--_danger); }
    .success { color: var(--_success); }
    .state { padding: var(--_gap); color: var(--_muted); }
    .state.error { color: var(--_danger); }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: .4em .5em; border-bottom: 1px solid var(--_border); }
    th { font-size: .85em; color: var(--_muted); font-weight: 600; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .actions { display: flex; gap: calc(var(--_gap) / 2); flex-wrap: wrap; margin-top: var(--_gap); }
    .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
      clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
    .overlay { position: fixed; inset: 0; background: var(--credits-color-backdrop, rgba(15, 23, 42, .45));
      display: flex; align-items: flex-start; justify-content: center; padding: 5vh 1em; overflow: auto;
      z-index: var(--credits-dialog-z-index, 1000); }
    .overlay.confirming { z-index: auto; } /* Stripe's 3-D Secure challenge opens above the page */
    .dialog { background: var(--_surface); border-radius: var(--_radius); padding: calc(var(--_gap) * 1.5);
      width: min(34em, 100%); box-shadow: 0 10px 40px rgba(0, 0, 0, .25); }
    .dialog header { display: flex; justify-content: space-between; align-items: center; gap: 1em; }
    .dialog header h2 { margin: 0; }
    fieldset { border: 1px solid var(--_border); border-radius: var(--_radius); padding: calc(var(--_gap) / 2)
      var(--_gap); margin: 0 0 var(--_gap); }
    legend { font-weight: 600; padding: 0 .3em; }
    .option { display: flex; gap: .6em; align-items: flex-start; padding: .4em 0; }
    .option label { font-weight: 400; margin: 0; }
    .card-slot { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); padding: .6em;
      margin-bottom: var(--_gap); min-height: 2.6em; }
    .chart svg { width: 100%; height: auto; display: block; }
    .legend { display: flex; flex-wrap: wrap; gap: .3em 1em; margin: .5em 0; font-size: .9em; }
    .swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .35em;
      vertical-align: -.05em; }
  `;

  const CHART_COLOURS = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#be123c', '#0e7490', '#4b5563'];

  // ---------------------------------------------------------------------------------------------------
  // The base element: settings from attributes or the page, shadow DOM, loading / empty / error states

  class CreditsElement extends HTMLElement {
    static get observedAttributes() {
      return ['api', 'account', 'token', 'locale'];
    }

    constructor() {
      super();
      this.attachShadow({mode: 'open'});
      this._token = null;
      this._loadQueued = false;
      this.status = 'idle'; // idle | loading | ready | forbidden | error
      this.error = null;
    }

    connectedCallback() {
      elements.add(this);
      this.settingsChanged();
    }

    disconnectedCallback() {
      elements.delete(this);
    }

    attributeChangedCallback() {
      if (this.isConnected) this.settingsChanged();
    }

    get api() {
      return (this.getAttribute('api') || page.api || '').replace(/\/+$/, '');
    }
    get account() {
      return this.getAttribute('account') || page.account || '';
    }
    get token() {
      return this._token || this.getAttribute('token') || page.token || '';
    }
    set token(value) {
      this._token = value;
      this.settingsChanged();
    }
    get locale() {
      return this.getAttribute('locale') || page.locale || document.documentElement.lang || undefined;
    }
    get fmt() {
      return new Format(this.locale);
    }
    get ready() {
      return Boolean(this.account && this.token);
    }

    settingsChanged() {
      if (this._loadQueued) return;
      this._loadQueued = true;
      queueMicrotask(() => {
        this._loadQueued = false;
        if (this.ready) this.reload();
        else this.renderState('signed-out');
      });
    }

    async call(method, path, body) {
      let response;
      try {
        response = await fetch(this.api + path, {
          method,
          headers: Object.assign({authorization: 'Bearer ' + this.token},
            body === undefined ? {} : {'content-type': 'application/json'}),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new ApiError(0, 'network', 'The credits service could not be reached. Check your connection and try again.');
      }
      const text = await response.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch (e) {
        data = null;
      }
      if (!response.ok) {
        const code = (data && (data.error || data.code)) || String(response.status);
        let message = (data && data.message) || `The credits service answered ${response.status}.`;
        if (response.status === 401) {
          message = 'Your session has expired. Sign in again.';
          this.emit('credits-unauthorized', {status: 401});
        }
        throw new ApiError(response.status, typeof code === 'string' ? code : String(response.status), message, data);
      }
      return data;
    }

    accountPath(suffix) {
      return `/accounts/${encodeURIComponent(this.account)}${suffix}`;
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, {detail, bubbles: true, composed: true}));
    }

    async reload() {
      // only the latest load may paint: an earlier one answering late (a slow first request, the settings
      // changed meanwhile: another account, another API) must not overwrite what the latest one showed
      const load = (this._loads = (this._loads || 0) + 1);
      const firstLoad = this.status !== 'ready';
      if (firstLoad) this.renderState('loading');
      try {
        await this.load();
        if (load !== this._loads) return;
        this.status = 'ready';
        this.render();
      } catch (error) {
        if (load !== this._loads) return;
        this.fail(error);
      }
    }

    fail(error) {
      if (error instanceof ApiError && error.status === 403) {
        this.status = 'forbidden';
        this.renderState('forbidden');
      } else {
        this.status = 'error';
        this.error = error;
        this.renderState('error');
      }
    }

    title() {
      return 'Credits';
    }

    stateHtml(kind) {
      const title = `<h2>${esc(this.title())}</h2>`;
      if (kind === 'loading') {
        return `${title}<div class="state" role="status" aria-live="polite">Loading…</div>`;
      }
      if (kind === 'signed-out') {
        return `${title}<div class="state" role="status">Sign in to see credits.</div>`;
      }
      if (kind === 'forbidden') {
        return `${title}<div class="state" role="status" data-state="forbidden">` +
          `<p><strong>Only owners and admins can see credits.</strong></p>` +
          `<p class="muted">Ask an owner or an admin of your account for access.</p></div>`;
      }
      const message = this.error && this.error.message ? this.error.message : 'Something went wrong.';
      return `${title}<div class="state error" role="alert" data-state="error"><p>Could not load: ${esc(message)}</p>` +
        `<button type="button" data-action="retry">Try again</button></div>`;
    }

    renderState(kind) {
      this.shadowRoot.innerHTML = `<style>${STYLE}</style><section class="panel" aria-label="${esc(this.title())}" ` +
        `data-state="${kind}">${this.stateHtml(kind)}</section>`;
      const retry = this.shadowRoot.querySelector('[data-action="retry"]');
      if (retry) retry.addEventListener('click', () => this.reload());
    }

    paint(inner, extraAttributes) {
      this.shadowRoot.innerHTML = `<style>${STYLE}</style><section class="panel" aria-label="${esc(this.title())}" ` +
        `data-state="ready" ${extraAttributes || ''}>${inner}</section>`;
    }

    $(selector) {
      return this.shadowRoot.querySelector(selector);
    }
  }

  // The catalog, shared by the elements of a page (one request per API and token)
  const catalogs = new Map();
  function catalog(element) {
    const key = element.api + '\n' + element.token;
    if (!catalogs.has(key)) {
      const request = element.call('GET', '/packages');
      request.catch(() => catalogs.delete(key));
      catalogs.set(key, request);
    }
    return catalogs.get(key);
  }

  // Price of a custom amount: its tier's price per 1,000 credits, rounded up to a whole minor unit
  function customPrice(custom, credits) {
    const tiers = [...custom.tiers].sort((a, b) => a.from_credits - b.from_credits);
    let tier = tiers[0];
    for (const t of tiers) if (credits >= t.from_credits) tier = t;
    return {amount: Math.ceil((credits * tier.price_per_1000) / 1000), tier};
  }

  // The catalog's base rate, minor units per credit: its list price (the first custom tier, else the smallest package)
  function baseRate(packages) {
    if (packages.custom && packages.custom.tiers && packages.custom.tiers.length) {
      const first = [...packages.custom.tiers].sort((a, b) => a.from_credits - b.from_credits)[0];
      return first.price_per_1000 / 1000;
    }
    const smallest = [...(packages.items || [])].sort((a, b) => a.credits - b.credits)[0];
    return smallest ? smallest.price / smallest.credits : 0;
  }

  function findElement(tag) {
    return document.querySelector(tag);
  }

  // Keyboard: Tab stays in an open dialog, Escape closes it
  function trapFocus(root, container, onEscape) {
    container.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        onEscape();
        return;
      }
      if (event.key !== 'Tab') return;
      const focusable = [...container.querySelectorAll('button, input, select, a[href], [tabindex="0"]')]
        .filter((el) => !el.disabled && el.offsetParent !== null);
      const slotted = [...container.querySelectorAll('slot')].flatMap((slot) => slot.assignedElements())
        .flatMap((el) => [...el.querySelectorAll('input, button, select, iframe')]);
      const all = [...focusable, ...slotted];
      if (!all.length) return;
      const active = root.activeElement || document.activeElement;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && active === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-balance-card>

  class BalanceCard extends CreditsElement {
    constructor() {
      super();
      this._refresh = refresher(this);
    }
    title() {
      return 'Credits balance';
    }
    connectedCallback() {
      super.connectedCallback();
      for (const name of REFRESH_EVENTS) document.addEventListener(name, this._refresh);
    }
    disconnectedCallback() {
      super.disconnectedCallback();
      for (const name of REFRESH_EVENTS) document.removeEventListener(name, this._refresh);
    }
    async load() {
      const [card, packages] = await Promise.all([
        this.call('GET', this.accountPath('/balance')),
        catalog(this).catch(() => null),
      ]);
      this.card = card;
      this.packages = packages;
    }
    runwayText(seconds) {
      if (seconds === null || seconds === undefined) return 'No estimate yet: no recent usage.';
      return `About ${this.fmt.duration(seconds)} at your recent usage.`;
    }
    autoTopUpText(auto) {
      const f = this.fmt;
      if (auto && auto.enabled) {
        return `On: adds ${f.credits(auto.amount)} credits when the available balance falls below ${f.credits(auto.threshold)}.`;
      }
      if (auto && auto.disabled_reason) return `Off: turned off. ${DISABLED_REASONS[auto.disabled_reason] || ''}`;
      return 'Off.';
    }
    render() {
      const c = this.card;
      const f = this.fmt;
      const currency = this.packages ? this.packages.currency : null;
      const rate = this.packages ? baseRate(this.packages) : 0;
      const value = (credits) => (currency && rate ? `<span class="muted" data-money>≈ ${esc(f.moneyExact(credits * rate, currency))}</span>` : '');
      const soon = Date.now() + 30 * 86400 * 1000;
      const expiring = (c.expiring_soon || []).filter((e) => new Date(e.expires_at).getTime() <= soon);
      const expiringTotal = expiring.reduce((sum, e) => sum + e.amount, 0);
      const recent = (c.recent_transactions || []).slice(0, 5);
      const rows = recent.map((e) => `<tr><td>${esc(f.dateTime(e.created_at))}</td>` +
        `<td>${esc(TYPE_LABELS[e.type] || e.type)}${e.operation ? ` <span class="muted">(${esc(e.operation)})</span>` : ''}</td>` +
        `<td class="num" data-amount>${esc(f.signed(e.amount))}</td>` +
        `<td class="num">${e.balance_after === null || e.balance_after === undefined ? '' : esc(f.credits(e.balance_after))}</td></tr>`).join('');
      this.paint(`
        <div class="row" style="justify-content: space-between">
          <h2>Credits</h2>
          ${c.low_balance ? `<span class="badge" data-field="low-balance" role="status">Low balance</span>` : ''}
        </div>
        <div class="row">
          <div>
            <div class="muted">Available</div>
            <div class="big" data-field="available">${esc(f.credits(c.available))}</div>
            <div>${value(c.available)}</div>
          </div>
          <div>
            <div class="muted">Balance</div>
            <div class="big" data-field="balance" style="font-size:1.4em">${esc(f.credits(c.balance))}</div>
            <div>${value(c.balance)}</div>
          </div>
        </div>
        <dl class="grid">
          <div><dt>Held</dt><dd data-field="held">${esc(f.credits(c.held))}</dd></div>
          <div><dt>Added, lifetime</dt><dd data-field="lifetime-added">${esc(f.credits(c.lifetime_added))}</dd></div>
          <div><dt>Spent, lifetime</dt><dd data-field="lifetime-spent">${esc(f.credits(c.lifetime_spent))}</dd></div>
          <div><dt>Expired, lifetime</dt><dd data-field="lifetime-expired">${esc(f.credits(c.lifetime_expired))}</dd></div>
          ${c.lifetime_clawed_back ? `<div><dt>Refunded or disputed</dt><dd data-field="lifetime-clawed-back">${esc(f.credits(c.lifetime_clawed_back))}</dd></div>` : ''}
          <div><dt>Expiring in 30 days</dt><dd data-field="expiring">${esc(f.credits(expiringTotal))}</dd></div>
          <div><dt>Last payment</dt><dd data-field="last-payment">${c.last_payment_at ? esc(f.date(c.last_payment_at)) : 'None yet'}</dd></div>
        </dl>
        <p data-field="runway">${esc(this.runwayText(c.estimated_runway_seconds))}</p>
        <p><strong>Auto top-up:</strong> <span data-field="auto-top-up">${esc(this.autoTopUpText(c.auto_top_up))}</span></p>
        <h3>Latest transactions</h3>
        ${rows ? `<table data-field="recent"><caption class="sr-only">The 5 newest transactions</caption>
          <thead><tr><th scope="col">Date</th><th scope="col">Type</th><th scope="col" class="num">Credits</th>
          <th scope="col" class="num">Balance</th></tr></thead><tbody>${rows}</tbody></table>`
          : `<p class="muted" data-state="empty">No transactions yet.</p>`}
        <div class="actions">
          <button type="button" class="primary" data-action="purchase">Add credits</button>
          <button type="button" data-action="auto-top-up">Auto top-up</button>
        </div>`);
      this.$('[data-action="purchase"]').addEventListener('click', () => this.open('purchase', 'credits-purchase-dialog'));
      this.$('[data-action="auto-top-up"]').addEventListener('click', () => this.open('auto-top-up', 'credits-auto-top-up-dialog'));
    }
    open(what, tag) {
      const event = new CustomEvent(`credits-${what}-requested`, {bubbles: true, composed: true, cancelable: true});
      if (!this.dispatchEvent(event)) return; // the host opens its own
      const dialog = findElement(tag);
      if (dialog) dialog.open(this.shadowRoot.activeElement);
    }
  }

  const REFRESH_EVENTS = ['credits-purchase-succeeded', 'credits-auto-top-up-saved', 'credits-limits-saved',
    'credits-refresh'];

  // Reload now, and once more a moment later: the history and the usage are written from the ledger's
  // stream, a moment behind the balance.
  function refresher(element) {
    let later = null;
    return () => {
      if (!element.ready) return;
      element.reload();
      clearTimeout(later);
      later = setTimeout(() => element.ready && element.reload(), 2500);
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Dialog base: an overlay with role=dialog, focus kept inside, Escape and the close button close it

  class CreditsDialog extends CreditsElement {
    constructor() {
      super();
      this.isOpen = false;
    }
    settingsChanged() {
      if (this.isOpen) super.settingsChanged();
      else this.shadowRoot.innerHTML = '';
    }
    open(returnFocusTo) {
      this._returnFocus = returnFocusTo || document.activeElement;
      this.isOpen = true;
      this.onOpen();
      this.reload();
    }
    onOpen() {}
    close() {
      if (!this.isOpen) return;
      this.isOpen = false;
      this.onClose();
      this.shadowRoot.innerHTML = '';
      this.emit(`${this.localName.replace(/-dialog$/, '')}-closed`, {});
      if (this._returnFocus && this._returnFocus.focus) this._returnFocus.focus();
    }
    onClose() {}
    renderState(kind) {
      if (!this.isOpen) return;
      this.frame(`<div data-state="${kind}">${this.stateHtml(kind).replace(/^<h2>.*?<\/h2>/, '')}</div>`);
      const retry = this.$('[data-action="retry"]');
      if (retry) retry.addEventListener('click', () => this.reload());
    }
    frame(body) {
      const focused = this.shadowRoot.activeElement && this.shadowRoot.activeElement.id;
      this.shadowRoot.innerHTML = `<style>${STYLE}</style>
        <div class="overlay" part="overlay">
          <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" part="dialog">
            <header><h2 id="dialog-title">${esc(this.title())}</h2>
              <button type="button" data-action="close" aria-label="Close">✕</button></header>
            <div class="body">${body}</div>
          </div>
        </div>`;
      const overlay = this.$('.overlay');
      trapFocus(this.shadowRoot, overlay, () => !this.busy && this.close());
      overlay.addEventListener('click', (event) => {
        if (event.target === overlay && !this.busy) this.close();
      });
      this.$('[data-action="close"]').addEventListener('click', () => this.close());
      const again = focused && this.shadowRoot.getElementById(focused);
      (again || this.$('[autofocus]') || this.$('[data-action="close"]')).focus();
    }
    paint(inner) {
      if (this.isOpen) this.frame(inner);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-purchase-dialog stripe-key="pk_..." [stripe-js="https://js.stripe.com/v3/"]>

  const CHECKOUT_RETURN = 'credits_checkout';
  const stripeScripts = new Map();
  function loadStripe(url) {
    if (window.Stripe && !stripeScripts.size) return Promise.resolve(window.Stripe);
    if (!stripeScripts.has(url)) {
      stripeScripts.set(url, new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = url;
        script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js did not load')));
        script.onerror = () => {
          stripeScripts.delete(url);
          reject(new Error('Stripe.js could not be loaded'));
        };
        document.head.appendChild(script);
      }));
    }
    return stripeScripts.get(url);
  }

  function paymentErrorMessage(error) {
    const code = error.code || '';
    const decline = error.decline_code || '';
    if (code === 'payment_intent_authentication_failure' || code === 'authentication_required' ||
        decline === 'authentication_required') {
      return 'Your bank\'s verification (3-D Secure) was not completed, so the payment did not go through. ' +
        'No credits were added. Try again, or use another card.';
    }
    if (code === 'card_declined' || error.type === 'card_error') {
      const why = error.message ? ` ${error.message}` : '';
      return `Your card was declined.${why.replace(/^ Your card was declined\.?/, '')} No credits were added. ` +
        'Try another card.';
    }
    if (code === 'expired_card') return 'Your card has expired. No credits were added. Try another card.';
    if (code === 'incorrect_cvc') return 'The card\'s security code is incorrect. No credits were added.';
    if (error.type === 'validation_error') return error.message || 'Check the card details.';
    return (error.message || 'The payment did not go through.') + ' No credits were added.';
  }

  class PurchaseDialog extends CreditsDialog {
    static get observedAttributes() {
      return [...CreditsElement.observedAttributes, 'stripe-key', 'stripe-js', 'credit-timeout', 'payment'];
    }
    title() {
      return 'Add credits';
    }
    get checkoutMode() {
      return this.getAttribute('payment') === 'checkout';
    }
    // Embedded Checkout ends by going to the return URL (a new page load): the purchase waits in
    // sessionStorage and the dialog picks it up there.
    returnUrl() {
      const url = new URL(window.location.href);
      url.searchParams.set(CHECKOUT_RETURN, 'returned');
      return url.toString();
    }
    settingsChanged() {
      if (!this.isOpen && this.ready && this.resumeCheckout()) return;
      super.settingsChanged();
    }
    resumeCheckout() {
      const url = new URL(window.location.href);
      if (url.searchParams.get(CHECKOUT_RETURN) !== 'returned') return false;
      let pending = null;
      try {
        pending = JSON.parse(sessionStorage.getItem(CHECKOUT_RETURN) || 'null');
      } catch (e) {
        pending = null;
      }
      if (!pending || pending.account_id !== this.account) return false;
      sessionStorage.removeItem(CHECKOUT_RETURN);
      url.searchParams.delete(CHECKOUT_RETURN);
      history.replaceState(history.state, '', url.toString());
      this.isOpen = true;
      this._closed = false;
      this._returnFocus = null;
      this.purchase = pending;
      this.step = 'crediting';
      this.renderOutcome();
      this.waitForCredits();
      return true;
    }
    get stripeJs() {
      return this.getAttribute('stripe-js') || 'https://js.stripe.com/v3/';
    }
    get stripeKey() {
      return this.getAttribute('stripe-key') || page.stripeKey || '';
    }
    get creditTimeout() {
      return Number(this.getAttribute('credit-timeout')) || 60000;
    }
    onOpen() {
      this.step = 'choose';
      this.choice = null;
      this.purchase = null;
      this.message = null;
      this.busy = false;
    }
    onClose() {
      this.teardownCard();
      this._closed = true;
    }
    async load() {
      this._closed = false;
      this.packages = await catalog(this);
    }
    render() {
      if (this.step === 'choose') this.renderChoose();
      else if (this.step === 'pay') this.renderPay();
      else this.renderOutcome();
    }
    renderChoose() {
      const f = this.fmt;
      const p = this.packages;
      const items = [...p.items].sort((a, b) => a.credits - b.credits);
      const smallest = items[0];
      const per1000 = (item) => (item.price * 1000) / item.credits;
      const options = items.map((item, i) => {
        const saving = smallest ? 1 - per1000(item) / per1000(smallest) : 0;
        const checked = this.choice ? this.choice.package_id === item.id : i === 0;
        return `<div class="option"><input type="radio" name="choice" id="pkg-${esc(item.id)}" value="${esc(item.id)}"
            ${checked ? 'checked' : ''}>
          <label for="pkg-${esc(item.id)}"><strong>${esc(f.credits(item.credits))} credits</strong> for
            ${esc(f.money(item.price, item.currency || p.currency))}
            <span class="muted">· ${esc(f.money(Math.round(per1000(item)), item.currency || p.currency))} per 1,000 credits</span>
            ${saving >= 0.005 ? ` <span class="badge" data-saving>Save ${esc(f.percent(saving))}</span>` : ''}</label></div>`;
      }).join('');
      const custom = p.custom;
      const customChecked = this.choice && this.choice.credits !== undefined;
      this.paint(`
        <form novalidate>
          <fieldset><legend>Choose credits</legend>
            ${options}
            ${custom ? `<div class="option"><input type="radio" name="choice" id="pkg-custom" value="custom" ${customChecked ? 'checked' : ''}>
              <label for="pkg-custom">Custom amount</label></div>
            <div class="field" style="margin-left:1.8em">
              <label for="custom-credits">Credits (${esc(f.credits(custom.min_credits))} to ${esc(f.credits(custom.max_credits))})</label>
              <input id="custom-credits" type="number" inputmode="numeric" min="${custom.min_credits}" max="${custom.max_credits}"
                step="1" value="${customChecked ? esc(this.choice.credits) : ''}" aria-describedby="custom-price">
              <div id="custom-price" class="hint" aria-live="polite"></div>
            </div>` : ''}
          </fieldset>
          <div class="actions"><button type="submit" class="primary" data-action="continue">Continue to payment</button></div>
        </form>`);
      const form = this.$('form');
      const input = this.$('#custom-credits');
      const price = this.$('#custom-price');
      const update = () => {
        if (!input) return;
        const value = input.value.trim();
        const n = Number(value);
        price.className = 'hint';
        if (!value) {
          price.textContent = 'Type an amount to see its price.';
        } else if (!Number.isInteger(n) || n < custom.min_credits || n > custom.max_credits) {
          price.className = 'invalid';
          price.textContent = `Choose a whole number from ${f.credits(custom.min_credits)} to ${f.credits(custom.max_credits)}.`;
        } else {
          const {amount, tier} = customPrice(custom, n);
          price.textContent = `${f.money(amount, p.currency)} (${f.money(tier.price_per_1000, p.currency)} per 1,000 credits)`;
        }
      };
      if (input) {
        input.addEventListener('input', () => {
          this.$('#pkg-custom').checked = true;
          update();
        });
        input.addEventListener('focus', () => (this.$('#pkg-custom').checked = true));
        update();
      }
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const selected = this.$('input[name="choice"]:checked');
        if (!selected) return;
        if (selected.value === 'custom') {
          const n = Number(input.value);
          if (!Number.isInteger(n) || n < custom.min_credits || n > custom.max_credits) {
            update();
            input.focus();
            return;
          }
          this.choice = {credits: n};
        } else {
          this.choice = {package_id: selected.value};
        }
        this.startPayment();
      });
    }
    async startPayment() {
      this.busy = true;
      this.step = 'pay';
      this.message = null;
      this.frame('<div role="status" aria-live="polite">Preparing the payment…</div>');
      const request = Object.assign({}, this.choice,
        this.checkoutMode ? {mode: 'checkout', return_url: this.returnUrl()} : {});
      try {
        const [purchase, StripeJs] = await Promise.all([
          this.call('POST', this.accountPath('/purchases'), request),
          loadStripe(this.stripeJs),
        ]);
        if (this._closed) return;
        this.purchase = purchase;
        if (this.checkoutMode) {
          const {client_secret: secret, ...kept} = purchase;
          sessionStorage.setItem(CHECKOUT_RETURN, JSON.stringify(kept));
        }
        this.emit('credits-purchase-started', {purchase});
        this.stripe = StripeJs(this.stripeKey);
        this.busy = false;
        this.renderPay();
      } catch (error) {
        this.busy = false;
        this.step = 'choose';
        this.message = error.message || String(error);
        this.renderChoose();
        const form = this.$('form');
        form.insertAdjacentHTML('afterbegin', `<p class="error" role="alert">${esc(this.message)}</p>`);
      }
    }
    mountCard() {
      // Stripe's card element lives in the light DOM (slotted), where Stripe.js can reach it
      this.teardownCard();
      const holder = document.createElement('div');
      holder.slot = 'card';
      holder.className = 'credits-card-element';
      this.appendChild(holder);
      this.cardHolder = holder;
      if (this.checkoutMode) {
        const secret = this.purchase.client_secret;
        this.cardElement = {mounting: true};
        this.stripe.initEmbeddedCheckout({fetchClientSecret: async () => secret}).then((checkout) => {
          if (this.cardHolder !== holder) return checkout.destroy();
          this.cardElement = checkout;
          checkout.mount(holder);
        }, (error) => {
          this.message = 'The payment form could not be shown: ' + (error && error.message ? error.message : error);
          this.renderPay();
        });
        return;
      }
      this.cardElement = this.stripe.elements().create('card', {hidePostalCode: true});
      this.cardElement.mount(holder);
    }
    teardownCard() {
      if (this.cardElement && this.cardElement.destroy) {
        try {
          this.cardElement.destroy();
        } catch (e) { /* already gone */ }
      }
      this.cardElement = null;
      if (this.cardHolder) this.cardHolder.remove();
      this.cardHolder = null;
    }
    renderPay() {
      const f = this.fmt;
      const p = this.purchase;
      this.frame(`
        <p>You are buying <strong data-field="credits">${esc(f.credits(p.credits))} credits</strong> for
          <strong data-field="amount">${esc(f.money(p.amount, p.currency))}</strong>.</p>
        <div role="group" aria-labelledby="card-label">
          <div id="card-label" class="muted" style="margin-bottom:.3em">${this.checkoutMode ? 'Payment' : 'Card'}</div>
          <div class="card-slot"><slot name="card"></slot></div>
        </div>
        <div data-field="message" aria-live="assertive">${this.message ? `<p class="error" role="alert">${esc(this.message)}</p>` : ''}</div>
        <div class="actions">
          ${this.checkoutMode ? '' : `<button type="button" class="primary" data-action="pay">Pay ${esc(f.money(p.amount, p.currency))}</button>`}
          <button type="button" data-action="back">Back</button>
        </div>`);
      if (!this.cardElement) this.mountCard();
      if (!this.checkoutMode) this.$('[data-action="pay"]').addEventListener('click', () => this.pay());
      this.$('[data-action="back"]').addEventListener('click', () => {
        this.teardownCard();
        this.step = 'choose';
        this.renderChoose();
      });
    }
    async pay() {
      const button = this.$('[data-action="pay"]');
      button.disabled = true;
      button.textContent = 'Paying…';
      this.busy = true; // the payment is with Stripe: the dialog stays until it answers
      this.$('[data-action="close"]').disabled = true;
      this.$('[data-action="back"]').disabled = true;
      this.$('.overlay').classList.add('confirming');
      let result;
      try {
        result = await this.stripe.confirmCardPayment(this.purchase.client_secret, {
          payment_method: {card: this.cardElement},
        });
      } catch (error) {
        result = {error: {message: String(error && error.message ? error.message : error)}};
      }
      this.busy = false;
      if (this._closed) return;
      if (result.error) {
        this.message = paymentErrorMessage(result.error);
        this.emit('credits-purchase-failed', {purchase: this.purchase, error: result.error});
        this.renderPay();
        return;
      }
      this.step = 'crediting';
      this.message = null;
      this.renderOutcome();
      this.waitForCredits();
    }
    async waitForCredits() {
      const deadline = Date.now() + this.creditTimeout;
      let delay = 500;
      while (!this._closed) {
        try {
          const purchase = await this.call('GET', this.accountPath(`/purchases/${encodeURIComponent(this.purchase.purchase_id)}`));
          if (purchase.status === 'succeeded') {
            this.purchase = Object.assign({}, this.purchase, purchase);
            this.step = 'done';
            this.renderOutcome();
            this.emit('credits-purchase-succeeded', {purchase});
            return;
          }
          if (purchase.status === 'failed') {
            this.step = 'pay';
            this.message = paymentErrorMessage(purchase.failure || {});
            this.emit('credits-purchase-failed', {purchase, error: purchase.failure});
            this.renderPay();
            return;
          }
        } catch (error) {
          if (error instanceof ApiError && error.status !== 0 && error.status < 500) {
            this.step = 'timeout';
            this.message = error.message;
            this.renderOutcome();
            return;
          }
        }
        if (Date.now() > deadline) {
          this.step = 'timeout';
          this.renderOutcome();
          this.emit('credits-purchase-timeout', {purchase: this.purchase});
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 1.5, 3000);
      }
    }
    renderOutcome() {
      const f = this.fmt;
      const p = this.purchase;
      this.teardownCard();
      if (this.step === 'crediting') {
        this.frame(`<div role="status" aria-live="polite" data-state="crediting">
          <p><strong>Payment received, adding credits…</strong></p>
          <p class="muted">${esc(f.credits(p.credits))} credits will appear on your balance in a moment.</p></div>`);
      } else if (this.step === 'done') {
        this.frame(`<div role="status" aria-live="polite" data-state="succeeded">
          <p class="success"><strong>${esc(f.credits(p.credits))} credits added.</strong></p>
          <p class="muted">Thank you. A receipt for ${esc(f.money(p.amount, p.currency))} is on its way.</p></div>
          <div class="actions"><button type="button" class="primary" data-action="done" autofocus>Done</button></div>`);
        this.$('[data-action="done"]').addEventListener('click', () => this.close());
      } else {
        this.frame(`<div role="alert" data-state="timeout">
          <p><strong>Your payment is taking longer than usual to confirm.</strong></p>
          <p>${esc(this.message || 'If it went through, the credits will be added to your balance within a few minutes; you can close this window.')}</p></div>
          <div class="actions"><button type="button" data-action="done" autofocus>Close</button></div>`);
        this.$('[data-action="done"]').addEventListener('click', () => this.close());
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-auto-top-up-dialog>

  const TOP_UP_MAX = 100000;

  class AutoTopUpDialog extends CreditsDialog {
    title() {
      return 'Auto top-up';
    }
    async load() {
      const [settings, card] = await Promise.all([
        this.call('GET', this.accountPath('/auto-top-up')),
        this.call('GET', this.accountPath('/balance')).catch(() => null),
      ]);
      this.settings = settings;
      this.paidBefore = Boolean(card && card.last_payment_at);
    }
    validate() {
      const f = this.fmt;
      const enabled = this.$('#enabled').checked;
      const threshold = this.$('#threshold').value.trim();
      const amount = this.$('#amount').value.trim();
      const errors = {threshold: '', amount: ''};
      const a = Number(amount);
      const t = Number(threshold);
      if (amount !== '' || enabled) {
        if (amount === '' || !Number.isInteger(a) || a < 1 || a > TOP_UP_MAX) {
          errors.amount = `Enter a whole number of credits from 1 to ${f.credits(TOP_UP_MAX)}.`;
        }
      }
      if (threshold !== '' || enabled) {
        if (threshold === '' || !Number.isInteger(t) || t < 0 || t > TOP_UP_MAX) {
          errors.threshold = `Enter a whole number of credits from 0 to ${f.credits(TOP_UP_MAX)}.`;
        } else if (!errors.amount && amount !== '' && t > a) {
          errors.threshold = 'The threshold cannot be more than the amount added.';
        }
      }
      for (const name of ['threshold', 'amount']) {
        const input = this.$('#' + name);
        const message = this.$(`#${name}-error`);
        message.textContent = errors[name];
        input.setAttribute('aria-invalid', errors[name] ? 'true' : 'false');
      }
      const ok = !errors.threshold && !errors.amount;
      this.$('[data-action="save"]').disabled = !ok;
      return ok ? {enabled, threshold: threshold === '' ? null : t, amount: amount === '' ? null : a} : null;
    }
    render(message) {
      const s = this.settings;
      const f = this.fmt;
      const method = s.payment_method;
      this.paint(`
        <form novalidate>
          <div class="option"><input type="checkbox" id="enabled" ${s.enabled ? 'checked' : ''}>
            <label for="enabled">Top up automatically when my balance runs low</label></div>
          ${s.disabled_reason && !s.enabled ? `<p class="error" role="status" data-field="disabled-reason"><strong>Auto top-up was turned off.</strong> ${esc(DISABLED_REASONS[s.disabled_reason] || s.disabled_reason)}</p>` : ''}
          <div class="field"><label for="threshold">When the available balance falls below (credits)</label>
            <input id="threshold" type="number" inputmode="numeric" min="0" max="${TOP_UP_MAX}" step="1"
              value="${s.threshold === null || s.threshold === undefined ? '' : esc(s.threshold)}" aria-describedby="threshold-error threshold-hint">
            <div id="threshold-hint" class="hint">0 to ${esc(f.credits(TOP_UP_MAX))}, and no more than the amount added.</div>
            <div id="threshold-error" class="invalid" aria-live="polite"></div></div>
          <div class="field"><label for="amount">Add (credits)</label>
            <input id="amount" type="number" inputmode="numeric" min="1" max="${TOP_UP_MAX}" step="1"
              value="${s.amount === null || s.amount === undefined ? '' : esc(s.amount)}" aria-describedby="amount-error amount-hint">
            <div id="amount-hint" class="hint">1 to ${esc(f.credits(TOP_UP_MAX))} credits per top-up.</div>
            <div id="amount-error" class="invalid" aria-live="polite"></div></div>
          <p data-field="payment-method"><strong>Card:</strong> ${method
            ? `${esc((method.brand || 'card').replace(/^\w/, (c) => c.toUpperCase()))} ending in ${esc(method.last4 || '····')}`
            : this.paidBefore ? 'The card of your latest purchase will be charged.'
              : 'No card on file yet. Buy credits once with a card and it will be used for auto top-up.'}</p>
          <p><button type="button" data-action="portal">Manage payment methods</button></p>
          <div data-field="message" aria-live="assertive">${message ? `<p class="${message.ok ? 'success' : 'error'}" role="${message.ok ? 'status' : 'alert'}">${esc(message.text)}</p>` : ''}</div>
          <div class="actions"><button type="submit" class="primary" data-action="save">Save</button>
            <button type="button" data-action="cancel">Cancel</button></div>
        </form>`);
      this.$('[data-action="portal"]').addEventListener('click', () => this.openPortal());
      for (const id of ['#enabled', '#threshold', '#amount']) this.$(id).addEventListener('input', () => this.validate());
      this.$('#enabled').addEventListener('change', () => this.validate());
      this.$('[data-action="cancel"]').addEventListener('click', () => this.close());
      this.$('form').addEventListener('submit', (event) => {
        event.preventDefault();
        this.save();
      });
      this.validate();
    }
    // Stripe's customer portal, where the card on file is changed; back to this page afterwards
    async openPortal() {
      const button = this.$('[data-action="portal"]');
      button.disabled = true;
      try {
        const {url} = await this.call('POST', this.accountPath('/billing-portal'), {return_url: window.location.href});
        const event = new CustomEvent('credits-billing-portal', {detail: {url}, bubbles: true, composed: true, cancelable: true});
        if (this.dispatchEvent(event)) window.location.assign(url);
      } catch (error) {
        const message = this.$('[data-field="message"]');
        message.innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`;
      } finally {
        if (this.$('[data-action="portal"]')) this.$('[data-action="portal"]').disabled = false;
      }
    }
    async save() {
      const body = this.validate();
      if (!body) return;
      const request = {enabled: body.enabled};
      if (body.threshold !== null) request.threshold = body.threshold;
      if (body.amount !== null) request.amount = body.amount;
      const button = this.$('[data-action="save"]');
      button.disabled = true;
      try {
        this.settings = await this.call('PUT', this.accountPath('/auto-top-up'), request);
        this.render({ok: true, text: 'Saved.'});
        this.emit('credits-auto-top-up-saved', {settings: this.settings});
      } catch (error) {
        if (error.status === 403) return this.fail(error);
        const values = {enabled: this.$('#enabled').checked, threshold: this.$('#threshold').value, amount: this.$('#amount').value};
        this.render({ok: false, text: error.message});
        this.$('#enabled').checked = values.enabled;
        this.$('#threshold').value = values.threshold;
        this.$('#amount').value = values.amount;
        this.validate();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-history page-size="20">

  function csvCell(value) {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  class History extends CreditsElement {
    static get observedAttributes() {
      return [...CreditsElement.observedAttributes, 'page-size'];
    }
    constructor() {
      super();
      this.type = '';
      this.cursors = [null]; // cursor of each page seen: Previous goes back through them
      this._refresh = refresher(this);
    }
    title() {
      return 'Credits history';
    }
    connectedCallback() {
      super.connectedCallback();
      for (const name of REFRESH_EVENTS) document.addEventListener(name, this._refresh);
    }
    disconnectedCallback() {
      super.disconnectedCallback();
      for (const name of REFRESH_EVENTS) document.removeEventListener(name, this._refresh);
    }
    get pageSize() {
      return Math.min(200, Math.max(1, Number(this.getAttribute('page-size')) || 20));
    }
    query(cursor, limit) {
      const params = new URLSearchParams({limit: String(limit || this.pageSize)});
      if (cursor) params.set('cursor', cursor);
      if (this.type) params.set('type', this.type);
      return this.accountPath('/transactions?' + params);
    }
    async load() {
      // A type filter applies after the page's limit (the API reads `limit` entries, then keeps those of the
      // type): follow the cursor, asking only for what the page still lacks, until it is full or at the end.
      const items = [];
      let cursor = this.cursors[this.cursors.length - 1];
      for (let round = 0; round < 50; round++) {
        const page = await this.call('GET', this.query(cursor, this.pageSize - items.length));
        items.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor || items.length >= this.pageSize) break;
      }
      this.page = {items, next_cursor: cursor};
    }
    async go(cursors) {
      this.cursors = cursors;
      const table = this.$('[data-field="rows"]');
      if (table) table.setAttribute('aria-busy', 'true');
      try {
        await this.load();
        this.render();
      } catch (error) {
        this.fail(error);
      }
    }
    render() {
      const f = this.fmt;
      const items = this.page.items || [];
      const rows = items.map((e) => `<tr data-entry="${esc(e.id)}"><td>${esc(f.dateTime(e.created_at))}</td>
        <td>${esc(TYPE_LABELS[e.type] || e.type)}</td>
        <td>${esc(e.operation || e.description || e.reference || '')}</td>
        <td class="num ${e.amount < 0 ? '' : 'success'}" data-amount>${esc(f.signed(e.amount))}</td>
        <td class="num" data-balance>${e.balance_after === null || e.balance_after === undefined ? '' : esc(f.credits(e.balance_after))}</td></tr>`).join('');
      const pageNumber = this.cursors.length;
      this.paint(`
        <div class="row" style="justify-content: space-between"><h2>History</h2>
          <div class="row" style="gap:.5em">
            <label for="type" style="margin:0">Type</label>
            <select id="type"><option value="">All</option>${ENTRY_TYPES.map((t) => `<option value="${t}" ${t === this.type ? 'selected' : ''}>${esc(TYPE_LABELS[t])}</option>`).join('')}</select>
            <button type="button" data-action="csv">Download CSV</button>
          </div></div>
        ${rows ? `<table data-field="rows"><caption class="sr-only">Transactions, newest first, page ${pageNumber}</caption>
          <thead><tr><th scope="col">Date</th><th scope="col">Type</th><th scope="col">Details</th>
          <th scope="col" class="num">Credits</th><th scope="col" class="num">Balance</th></tr></thead>
          <tbody>${rows}</tbody></table>`
          : `<p class="muted" data-state="empty">${this.type ? 'No transactions of this type.' : 'No transactions yet.'}</p>`}
        <div class="actions" style="justify-content: space-between; align-items:center">
          <span class="muted" data-field="page" aria-live="polite">Page ${pageNumber}</span>
          <span class="row" style="gap:.5em">
            <button type="button" data-action="previous" ${pageNumber > 1 ? '' : 'disabled'}>Previous</button>
            <button type="button" data-action="next" ${this.page.next_cursor ? '' : 'disabled'}>Next</button></span>
        </div>
        <div data-field="csv-status" aria-live="polite"></div>`);
      this.$('#type').addEventListener('change', (event) => {
        this.type = event.target.value;
        this.go([null]).then(() => this.$('#type') && this.$('#type').focus());
      });
      this.$('[data-action="previous"]').addEventListener('click', () =>
        this.go(this.cursors.slice(0, -1)).then(() => this.focusPager('previous')));
      this.$('[data-action="next"]').addEventListener('click', () =>
        this.go([...this.cursors, this.page.next_cursor]).then(() => this.focusPager('next')));
      this.$('[data-action="csv"]').addEventListener('click', () => this.downloadCsv());
    }
    focusPager(which) {
      const button = this.$(`[data-action="${which}"]`);
      if (button && !button.disabled) button.focus();
      else if (this.$('[data-field="page"]')) this.$('[data-action="previous"]').focus();
    }
    async allEntries() {
      const entries = [];
      let cursor = null;
      do {
        const page = await this.call('GET', this.query(cursor, 200));
        entries.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      return entries;
    }
    async csv() {
      const entries = await this.allEntries();
      const header = ['id', 'created_at', 'type', 'amount', 'balance_after', 'operation', 'reference', 'description'];
      const lines = [header.join(',')].concat(entries.map((e) => header.map((k) => csvCell(e[k])).join(',')));
      return lines.join('\r\n') + '\r\n';
    }
    async downloadCsv() {
      const status = this.$('[data-field="csv-status"]');
      status.textContent = 'Preparing the CSV…';
      try {
        const text = await this.csv();
        const url = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
        const link = document.createElement('a');
        link.href = url;
        link.download = `credits-history-${this.account}${this.type ? '-' + this.type : ''}.csv`;
        this.shadowRoot.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        status.textContent = 'CSV downloaded.';
        this.emit('credits-history-downloaded', {rows: text.split('\r\n').length - 2});
      } catch (error) {
        status.innerHTML = `<span class="error" role="alert">Could not download: ${esc(error.message)}</span>`;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-usage days="30">

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  class Usage extends CreditsElement {
    static get observedAttributes() {
      return [...CreditsElement.observedAttributes, 'days'];
    }
    constructor() {
      super();
      this._refresh = refresher(this);
    }
    title() {
      return 'Credits usage';
    }
    connectedCallback() {
      super.connectedCallback();
      for (const name of REFRESH_EVENTS) document.addEventListener(name, this._refresh);
    }
    disconnectedCallback() {
      super.disconnectedCallback();
      for (const name of REFRESH_EVENTS) document.removeEventListener(name, this._refresh);
    }
    get range() {
      if (!this._range) {
        const days = Math.min(366, Math.max(1, Number(this.getAttribute('days')) || 30));
        const to = new Date();
        const from = new Date(to.getTime() - (days - 1) * 86400000);
        this._range = {from: isoDay(from), to: isoDay(to)};
      }
      return this._range;
    }
    async load() {
      const {from, to} = this.range;
      this.usage = await this.call('GET', this.accountPath(`/usage?from=${from}&to=${to}`));
    }
    chart(days, operations) {
      const width = 640;
      const height = 200;
      const left = 48;
      const bottom = 24;
      const plotW = width - left - 8;
      const plotH = height - bottom - 8;
      const max = Math.max(1, ...days.map((d) => d.total));
      const band = plotW / Math.max(1, days.length);
      const bar = Math.max(1, band * 0.7);
      const f = this.fmt;
      let bars = '';
      days.forEach((day, i) => {
        let y = 8 + plotH;
        operations.forEach((op, k) => {
          const value = (day.by_operation || {})[op] || 0;
          if (!value) return;
          const h = (value / max) * plotH;
          y -= h;
          bars += `<rect x="${(left + i * band + (band - bar) / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}"
            height="${h.toFixed(1)}" fill="${CHART_COLOURS[k % CHART_COLOURS.length]}"
            style="fill: var(--credits-chart-${(k % CHART_COLOURS.length) + 1}, ${CHART_COLOURS[k % CHART_COLOURS.length]})">
            <title>${esc(f.day(day.date))}, ${esc(op)}: ${esc(f.credits(value))}</title></rect>`;
        });
      });
      const ticks = [0, 0.5, 1].map((r) => {
        const y = 8 + plotH - r * plotH;
        return `<line x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}" stroke="#d0d7de"/>` +
          `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="currentColor">${esc(f.credits(Math.round(max * r)))}</text>`;
      }).join('');
      const labelEvery = Math.ceil(days.length / 8);
      const labels = days.map((d, i) => (i % labelEvery ? '' :
        `<text x="${(left + i * band + band / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle" font-size="11" fill="currentColor">${esc(f.day(d.date))}</text>`)).join('');
      const summary = `Daily usage from ${f.day(days[0].date)} to ${f.day(days[days.length - 1].date)}, stacked by operation; ` +
        `${f.credits(this.usage.total)} credits in all.`;
      return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(summary)}">${ticks}${bars}${labels}</svg>`;
    }
    allDays() {
      // every day of the range, zero where the API reports none
      const byDate = new Map((this.usage.by_day || []).map((d) => [d.date, d]));
      const days = [];
      const start = new Date(this.usage.from + 'T00:00:00Z');
      const end = new Date(this.usage.to + 'T00:00:00Z');
      for (let t = start.getTime(); t <= end.getTime(); t += 86400000) {
        const date = isoDay(new Date(t));
        days.push(byDate.get(date) || {date, total: 0, by_operation: {}});
      }
      return days;
    }
    render() {
      const f = this.fmt;
      const u = this.usage;
      const operations = Object.entries(u.by_operation || {}).sort((a, b) => b[1] - a[1]).map(([op]) => op);
      const days = this.allDays();
      const rows = operations.map((op, k) => `<tr data-operation="${esc(op)}">
        <td><span class="swatch" style="background: var(--credits-chart-${(k % CHART_COLOURS.length) + 1}, ${CHART_COLOURS[k % CHART_COLOURS.length]})" aria-hidden="true"></span>${esc(op)}</td>
        <td class="num" data-total>${esc(f.credits(u.by_operation[op]))}</td>
        <td class="num">${esc(f.percent(u.total ? u.by_operation[op] / u.total : 0))}</td></tr>`).join('');
      const days0 = Number(this.getAttribute('days')) || 30;
      this.paint(`
        <div class="row" style="justify-content: space-between"><h2>Usage</h2>
          <div class="row" style="gap:.5em"><label for="range" style="margin:0">Range</label>
            <select id="range">${[7, 30, 90, 365].map((d) => `<option value="${d}" ${d === days0 ? 'selected' : ''}>Last ${d} days</option>`).join('')}</select></div></div>
        ${u.total ? `<div class="chart">${this.chart(days, operations)}</div>` : `<p class="muted" data-state="empty">No usage in this range.</p>`}
        ${rows ? `<table data-field="by-operation"><caption class="sr-only">Usage by operation</caption>
          <thead><tr><th scope="col">Operation</th><th scope="col" class="num">Credits</th><th scope="col" class="num">Share</th></tr></thead>
          <tbody>${rows}</tbody><tfoot><tr><th scope="row">Total</th><td class="num" data-field="total">${esc(f.credits(u.total))}</td><td></td></tr></tfoot></table>` : ''}`);
      this.$('#range').addEventListener('change', (event) => {
        this.setAttribute('days', event.target.value);
        this._range = null;
        this.reload().then(() => this.$('#range') && this.$('#range').focus());
      });
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // <credits-limits>

  class Limits extends CreditsElement {
    title() {
      return 'Credit limits';
    }
    async load() {
      this.limits = await this.call('GET', this.accountPath('/limits'));
    }
    render(message) {
      const f = this.fmt;
      const l = this.limits;
      this.paint(`
        <h2>Limits</h2>
        <form novalidate>
          <div class="field"><label for="soft">Soft limit: low-balance threshold (credits)</label>
            <input id="soft" type="number" inputmode="numeric" min="0" step="1" value="${esc(l.low_balance_threshold)}" aria-describedby="soft-what soft-error">
            <div id="soft-what" class="hint">When your available balance falls below ${esc(f.credits(l.low_balance_threshold))} credits, the balance shows “Low balance” and you get a low-balance notice; nothing is blocked.</div>
            <div id="soft-error" class="invalid" aria-live="polite"></div></div>
          <div class="field"><label for="hard">Hard limit (credits)</label>
            <input id="hard" type="number" inputmode="numeric" min="0" step="1" value="${esc(l.hard_limit)}" aria-describedby="hard-what hard-error">
            <div id="hard-what" class="hint">Usage that would take your available balance below ${esc(f.credits(l.hard_limit))} credits is refused, so you never spend past it.</div>
            <div id="hard-error" class="invalid" aria-live="polite"></div></div>
          <div data-field="message" aria-live="assertive">${message ? `<p class="${message.ok ? 'success' : 'error'}" role="${message.ok ? 'status' : 'alert'}">${esc(message.text)}</p>` : ''}</div>
          <div class="actions"><button type="submit" class="primary" data-action="save">Save limits</button></div>
        </form>`);
      const check = () => {
        let ok = true;
        for (const [id, min] of [['soft', 0], ['hard', l.hard_limit < 0 ? l.hard_limit : 0]]) {
          const input = this.$('#' + id);
          const n = Number(input.value);
          const bad = input.value.trim() === '' || !Number.isInteger(n) || n < min || n > 1e12;
          this.$(`#${id}-error`).textContent = bad ? `Enter a whole number of credits from ${f.credits(min)}.` : '';
          input.setAttribute('aria-invalid', bad ? 'true' : 'false');
          ok = ok && !bad;
        }
        this.$('[data-action="save"]').disabled = !ok;
        return ok;
      };
      this.$('#soft').addEventListener('input', check);
      this.$('#hard').addEventListener('input', check);
      this.$('form').addEventListener('submit', async (event) => {
        event.preventDefault();
        if (!check()) return;
        try {
          this.limits = await this.call('PUT', this.accountPath('/limits'), {
            low_balance_threshold: Number(this.$('#soft').value), hard_limit: Number(this.$('#hard').value)});
          this.render({ok: true, text: 'Limits saved.'});
          this.emit('credits-limits-saved', {limits: this.limits});
        } catch (error) {
          if (error.status === 403) return this.fail(error);
          this.render({ok: false, text: error.message});
        }
      });
    }
  }

  customElements.define('credits-balance-card', BalanceCard);
  customElements.define('credits-purchase-dialog', PurchaseDialog);
  customElements.define('credits-auto-top-up-dialog', AutoTopUpDialog);
  customElements.define('credits-history', History);
  customElements.define('credits-usage', Usage);
  customElements.define('credits-limits', Limits);

  window.CreditsConsole = {configure, version: '1.0.0', Format, customPrice, baseRate};
})();
