/** What the page shows, built as DOM from the API's JSON: no state, no requests here. */
import { h } from './dom.js';

/** @param {number} value */
const pct = (value) => `${Number(value.toFixed(2))}%`;

/** @param {number} at */
export const clock = (at) => new Date(at).toLocaleTimeString([], { hour12: false });

/** @param {number} at */
const when = (at) => {
  const date = new Date(at);
  return date.toDateString() === new Date().toDateString()
    ? clock(at)
    : date.toLocaleString([], { hour12: false });
};

/** @param {number} percent */
function bar(percent) {
  const fill = h('span', { class: 'bar-fill' });
  // CSSOM, not a style attribute: the CSP allows no inline styles.
  fill.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

/** @param {Record<string, number | undefined>} limits */
function limitsText(limits) {
  const parts = [];
  if (limits.latencyP99Ms !== undefined) parts.push(`p99 ≤ ${limits.latencyP99Ms} ms`);
  if (limits.errorRate !== undefined) parts.push(`errors ≤ ${pct(limits.errorRate * 100)}`);
  if (limits.cpu !== undefined) parts.push(`cpu ≤ ${pct(limits.cpu * 100)}`);
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/**
 * The application's services: stable and canary revisions, the canary's current weight.
 * @param {any} app one entry of GET /api/v1/applications
 */
export function servicesTable(app) {
  const rows = app.services.map((/** @type {any} */ s) =>
    h(
      'tr',
      { 'data-service': s.name },
      h(
        'td',
        {},
        h('strong', {}, s.name),
        s.name === app.entrypoint ? h('span', { class: 'muted' }, ' entrypoint') : null,
      ),
      h('td', { class: 'mono' }, s.stable),
      h('td', { class: 'mono' }, s.canary ?? '—'),
      h('td', { class: 'weight' }, bar(s.canaryWeight), ` ${s.canary === null ? '—' : pct(s.canaryWeight)}`),
      h('td', {}, `${s.instances.ready}/${s.instances.total} ready`),
      h('td', { class: 'mono' }, s.calls.length === 0 ? '—' : s.calls.join(', ')),
      h('td', {}, limitsText(s.limits)),
    ),
  );
  return h(
    'table',
    { class: 'grid services' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['service', 'stable', 'canary', 'canary weight', 'instances', 'calls', 'limits'].map((t) =>
          h('th', {}, t),
        ),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** @param {string | null} signal */
export function signalBadge(signal) {
  return signal === null
    ? h('span', { class: 'badge sig-none', title: 'no decision yet' }, '—')
    : h('span', { class: `badge sig-${signal}` }, signal);
}

/**
 * A track's state: the signal of its latest decision; before any, a progressing track is being
 * observed (the controller's "otherwise keep observing").
 * @param {any} track
 */
function stateBadge(track) {
  if (track.decision !== null) return signalBadge(track.decision.signal);
  if (track.phase !== 'progressing') return signalBadge(null);
  return h('span', { class: 'badge sig-OBSERVE', title: 'no decision yet: observing' }, 'OBSERVE');
}

/** @param {any} track one service of a release view */
function tierCell(track) {
  const promoted = track.phase === 'promoted' || track.phase === 'promoting';
  const index = promoted ? track.tiers.length - 1 : track.tierIndex;
  const current = promoted ? 100 : track.tier;
  /** @type {unknown[]} */
  const list = [];
  track.tiers.forEach((/** @type {number} */ share, /** @type {number} */ i) => {
    if (i > 0) list.push(', ');
    const status = i < index ? 'tier-passed' : i === index ? 'tier-current' : 'tier-pending';
    list.push(h('span', { class: status }, String(share)));
  });
  return h(
    'td',
    { class: 'tier', title: `tier ${index + 1} of ${track.tiers.length}` },
    h('strong', {}, current === null ? '—' : pct(current)),
    ' of [',
    list,
    ']',
  );
}

/** @param {any} track */
function weightCell(track) {
  const moving = track.weight !== track.targetWeight;
  return h(
    'td',
    { class: 'weight' },
    bar(track.weight),
    ` ${pct(track.weight)}`,
    moving
      ? h(
          'span',
          { class: 'muted', title: 'asked of the router, not yet confirmed' },
          ` → ${pct(track.targetWeight)}`,
        )
      : null,
  );
}

/** @param {any} track */
function riskCell(track) {
  if (track.risk === null) return h('td', { class: 'muted' }, '—');
  const title =
    track.risk.detail ?? (track.risk.breachTier === null ? '' : `breach at ${track.risk.breachTier}%`);
  return h('td', { title }, `${Math.round(track.risk.value * 100)}%`);
}

/** @param {any} track */
function decisionCell(track) {
  const decision = track.decision;
  const reason = track.reason;
  return h(
    'td',
    { class: 'decision' },
    decision === null
      ? h('span', { class: 'muted' }, 'no decision yet')
      : [h('time', {}, clock(decision.at)), ' ', decision.message],
    reason !== null && (decision === null || !decision.message.includes(reason))
      ? h('div', { class: 'reason' }, `reason: ${reason}`)
      : null,
  );
}

/** What an operator may ask of a whole release, and of one service. */
const RELEASE_ACTIONS = ['pause', 'resume', 'promote', 'abort', 'rollback'];
const SERVICE_ACTIONS = ['pause', 'resume', 'promote', 'rollback'];

/**
 * @param {string[]} actions
 * @param {(action: string) => void} onAction
 * @param {string} label
 */
function actionButtons(actions, onAction, label) {
  return h(
    'span',
    { class: 'actions', role: 'group', 'aria-label': label },
    actions.map((action) =>
      h(
        'button',
        {
          type: 'button',
          class: `act act-${action}`,
          'data-action': action,
          onclick: () => onAction(action),
        },
        action,
      ),
    ),
  );
}

/**
 * One release: its phase, and per changed service its tier, weight, state and last decision.
 * @param {any} view a release of GET /api/v1/releases
 * @param {{
 *   canAct: boolean,
 *   selected: boolean,
 *   onAction: (action: string, service?: string) => void,
 *   onSelect: () => void,
 * }} options
 */
export function releaseCard(view, options) {
  const running = view.phase === 'running';
  const steer = options.canAct && running;
  const several = view.services.length > 1;
  const rows = view.services.map((/** @type {any} */ t) =>
    h(
      'tr',
      { 'data-service': t.service },
      h('td', {}, h('strong', {}, t.service)),
      h('td', { class: 'mono' }, `${t.stable} → ${t.canary}`),
      tierCell(t),
      weightCell(t),
      h('td', {}, h('span', { class: `phase phase-${t.phase}` }, t.phase)),
      h('td', { class: 'state' }, stateBadge(t)),
      riskCell(t),
      decisionCell(t),
      steer && several
        ? h(
            'td',
            {},
            actionButtons(SERVICE_ACTIONS, (a) => options.onAction(a, t.service), `steer ${t.service}`),
          )
        : null,
    ),
  );
  const headings = ['service', 'revisions', 'tier', 'weight', 'phase', 'state', 'risk', 'last decision'];
  if (steer && several) headings.push('this service');
  return h(
    'article',
    {
      class: `release${options.selected ? ' selected' : ''}`,
      'data-release': view.name,
      'data-phase': view.phase,
    },
    h(
      'header',
      {},
      h('h3', {}, view.name),
      h('span', { class: `badge phase-${view.phase}` }, view.phase),
      h(
        'span',
        { class: 'muted' },
        running
          ? `started ${when(view.createdAt)}`
          : `started ${when(view.createdAt)} · ended ${when(view.updatedAt)}`,
      ),
      steer ? actionButtons(RELEASE_ACTIONS, (a) => options.onAction(a), `steer ${view.name}`) : null,
      h(
        'button',
        {
          type: 'button',
          class: 'show-log',
          onclick: options.onSelect,
          'aria-pressed': String(options.selected),
        },
        options.selected ? 'events shown' : 'show events',
      ),
    ),
    h(
      'table',
      { class: 'grid tracks' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headings.map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

/**
 * One line of a release's event log.
 * @param {any} event a stored release event
 */
export function eventItem(event) {
  return h(
    'li',
    {
      class: `ev ev-${event.type}${event.signal === null ? '' : ` sig-line-${event.signal}`}`,
      'data-sequence': event.sequence,
      'data-type': event.type,
    },
    h('time', {}, clock(event.at)),
    ' ',
    event.signal === null ? h('span', { class: 'badge sig-none' }, '·') : signalBadge(event.signal),
    ' ',
    h('span', { class: 'ev-type' }, event.type),
    event.service === null ? null : h('span', { class: 'ev-service' }, ` ${event.service}`),
    ' ',
    h('span', { class: 'ev-message' }, event.message),
  );
}
