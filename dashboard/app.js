/**
 * The Augur dashboard: the application's services, every release and a live event log, read from
 * the same API as the CLI. Live: the server-wide event stream says when to read again (and a slow
 * poll catches what streams do not carry, such as traffic set by hand); the selected release's
 * own stream fills its log.
 */
import { ApiError, createApi } from './api.js';
import { byId, fill, h } from './dom.js';
import { eventItem, releaseCard, servicesTable } from './render.js';
import { openEventStream } from './sse.js';

/** Kept for this browser tab only: gone when the tab closes, never in localStorage or a cookie. */
const TOKEN_KEY = 'augur.token';
const POLL_MS = 5_000;
/** Releases shown: every running one, and this many of those that ended (newest first). */
const ENDED_SHOWN = 20;
/** Events replayed when a log opens, and kept in it. */
const LOG_REPLAY = 300;
const LOG_KEPT = 1_000;
const CONFIRM = {
  promote: 'Promote {target}? Its canary becomes the stable revision at 100% now, skipping the tiers left.',
  abort: 'Abort {target}? Every service it changes is rolled back and the release ends.',
  rollback: 'Roll back {target}? The canary’s weight goes to 0 at once.',
};

const page = {
  appName: byId('app-name'),
  connection: byId('connection'),
  identity: byId('identity'),
  tokenForm: /** @type {HTMLFormElement} */ (byId('token-form')),
  tokenLabel: byId('token-label'),
  tokenInput: /** @type {HTMLInputElement} */ (byId('token-input')),
  forget: byId('forget-token'),
  notice: byId('notice'),
  noticeText: byId('notice-text'),
  noticeClose: byId('notice-close'),
  services: byId('services'),
  releases: byId('releases'),
  logRelease: byId('log-release'),
  logStatus: byId('log-status'),
  logNote: byId('log-note'),
  log: byId('log'),
  showObservations: /** @type {HTMLInputElement} */ (byId('show-observations')),
  more: h('p', { class: 'muted more' }),
};

const state = {
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN_KEY),
  /** @type {{ name: string, role: string } | null} */
  principal: null,
  /** Cards by release name, with the JSON they were built from: a card is rebuilt only on change. */
  /** @type {Map<string, { key: string, card: HTMLElement }>} */
  cards: new Map(),
  /** Every release, as last read. */
  /** @type {any[]} */
  all: [],
  /** The releases shown, in order. */
  /** @type {any[]} */
  views: [],
  servicesKey: '',
  /** @type {string | null} */
  selected: null,
  /** Whether the user chose the release whose log is shown (else the page follows the newest). */
  chosen: false,
  /** @type {{ close: () => void } | null} */
  feed: null,
  /** @type {{ close: () => void, release: string } | null} */
  logStream: null,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  poll: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  refreshTimer: undefined,
  refreshing: false,
  refreshAgain: false,
  /** Bumped at every sign-in change: answers to an earlier session's requests are dropped. */
  epoch: 0,
};

const api = createApi(() => state.token);

const canAct = () =>
  state.token !== null && (state.principal?.role === 'operator' || state.principal?.role === 'admin');

/**
 * @param {string} text
 * @param {'error' | 'info'} [kind]
 */
function notify(text, kind = 'error') {
  page.noticeText.textContent = text;
  page.notice.className = `notice notice-${kind}`;
  page.notice.hidden = false;
}

/**
 * @param {HTMLElement} el
 * @param {'live' | 'connecting' | 'down' | 'idle'} kind
 * @param {string} text
 */
function status(el, kind, text) {
  el.className = `conn conn-${kind}`;
  el.textContent = text;
}

/**
 * @param {import('./sse.js').StreamStatus} s
 * @returns {['live' | 'connecting' | 'down', string]}
 */
function describeStream(s) {
  switch (s.state) {
    case 'connecting':
      return ['connecting', 'connecting…'];
    case 'open':
      return ['live', 'live'];
    case 'disconnected':
      return ['down', `disconnected (${s.reason}); retrying in ${Math.ceil(s.retryInMs / 1000)} s`];
    default:
      return ['down', `disconnected: ${s.reason}`];
  }
}

// ── who is reading ──────────────────────────────────────────────────────────────────────────────

function showIdentity() {
  const p = state.principal;
  page.forget.hidden = state.token === null;
  if (p === null) {
    fill(page.identity);
    return;
  }
  if (state.token === null) {
    fill(page.identity, h('span', { class: 'muted' }, 'reading without a token (read-only)'));
    page.tokenLabel.textContent = 'operator token, to steer releases';
    page.tokenForm.hidden = false;
    return;
  }
  page.tokenForm.hidden = true;
  fill(
    page.identity,
    'token ',
    h('strong', { class: 'principal' }, p.name),
    ` (${p.role})`,
    canAct() ? null : h('span', { class: 'muted' }, ' read-only: actions need an operator token'),
  );
}

/** @param {string} why */
function askForToken(why) {
  stopLive();
  state.principal = null;
  page.tokenLabel.textContent = 'API token';
  page.tokenForm.hidden = false;
  page.forget.hidden = state.token === null;
  fill(page.identity, h('span', { class: 'needs-token' }, why));
  status(page.connection, 'idle', 'waiting for a token');
  fill(page.services, h('p', { class: 'muted' }, 'enter a token to see the application'));
  fill(page.releases);
  state.cards.clear();
  state.servicesKey = '';
  page.tokenInput.focus();
}

async function signIn() {
  const epoch = ++state.epoch;
  stopLive();
  try {
    state.principal = await api.get('/api/v1/whoami');
  } catch (error) {
    if (epoch !== state.epoch) return;
    if (error instanceof ApiError && error.status === 401) {
      if (state.token === null) {
        askForToken('This Augur needs a token to read: `augur token create --role viewer FILE` makes one.');
        return;
      }
      // A refused token is dropped; reads may still be open without one.
      notify(`The token was refused: ${error.message}`);
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      void signIn();
      return;
    }
    status(
      page.connection,
      'down',
      `disconnected: ${error instanceof Error ? error.message : String(error)}`,
    );
    setTimeout(() => void signIn(), 3_000);
    return;
  }
  if (epoch !== state.epoch) return;
  showIdentity();
  startLive();
}

// ── live data ───────────────────────────────────────────────────────────────────────────────────

function startLive() {
  const epoch = state.epoch;
  void refresh();
  state.poll = setInterval(() => void refresh(), POLL_MS);
  state.feed = openEventStream('/api/v1/events', {
    headers: api.auth,
    onStatus: (s) => {
      if (epoch !== state.epoch) return;
      const [kind, text] = describeStream(s);
      status(page.connection, kind, text);
      // Whatever happened while the stream was down is read again once it is back.
      if (s.state === 'open') scheduleRefresh(0);
      if (s.state === 'failed' && (s.status === 401 || s.status === 403)) void signIn();
    },
    onMessage: () => scheduleRefresh(250),
  });
}

function stopLive() {
  clearInterval(state.poll);
  clearTimeout(state.refreshTimer);
  state.refreshTimer = undefined;
  state.feed?.close();
  state.feed = null;
  closeLog();
}

/** @param {number} delay */
function scheduleRefresh(delay) {
  if (state.refreshTimer !== undefined) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = undefined;
    void refresh();
  }, delay);
}

async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  const epoch = state.epoch;
  try {
    const [apps, list] = await Promise.all([api.get('/api/v1/applications'), api.get('/api/v1/releases')]);
    if (epoch !== state.epoch) return;
    const app = apps.applications[0];
    if (app !== undefined) showApplication(app);
    showReleases(list.releases);
  } catch (error) {
    if (epoch !== state.epoch) return;
    if (error instanceof ApiError && error.status === 401) void signIn();
    // An unreachable server is the event stream's to report: it says when it tries again.
    else if (!(error instanceof ApiError && error.status === 0))
      notify(`reading the state failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    state.refreshing = false;
    if (state.refreshAgain) {
      state.refreshAgain = false;
      scheduleRefresh(100);
    }
  }
}

/** @param {any} app */
function showApplication(app) {
  page.appName.textContent = `— ${app.name}`;
  document.title = `Augur — ${app.name}`;
  const key = JSON.stringify(app.services);
  if (key === state.servicesKey) return;
  state.servicesKey = key;
  fill(page.services, servicesTable(app));
}

/** @param {any[]} views */
function showReleases(views) {
  state.all = views;
  const running = views.filter((v) => v.phase === 'running');
  const ended = views.filter((v) => v.phase !== 'running');
  const newest = (/** @type {any} */ a, /** @type {any} */ b) => b.createdAt - a.createdAt;
  running.sort(newest);
  ended.sort(newest);
  const shown = [...running, ...ended.slice(0, ENDED_SHOWN)];
  state.views = shown;
  if (state.chosen && !shown.some((v) => v.name === state.selected)) state.chosen = false;
  // Until the user picks one, the log follows the newest running release (else the newest).
  if (!state.chosen) select(shown[0]?.name ?? null, false);
  if (shown.length === 0) {
    state.cards.clear();
    fill(
      page.releases,
      h('p', { class: 'muted' }, 'no releases yet: `augur rollout RELEASE.yaml` submits one'),
    );
    return;
  }
  const cards = shown.map((view) => {
    // Every tick moves these two: a card is rebuilt only when what it shows changes.
    const { updatedAt: _u, lastSequence: _l, ...rest } = view;
    const key = JSON.stringify([rest, canAct(), state.selected === view.name]);
    const known = state.cards.get(view.name);
    if (known !== undefined && known.key === key) return known.card;
    const card = releaseCard(view, {
      canAct: canAct(),
      selected: state.selected === view.name,
      onAction: (action, service) => void act(view.name, action, service),
      onSelect: () => select(view.name, true),
    });
    state.cards.set(view.name, { key, card });
    return card;
  });
  for (const name of [...state.cards.keys()])
    if (!shown.some((v) => v.name === name)) state.cards.delete(name);
  const hidden = ended.length - ENDED_SHOWN;
  page.more.textContent = `${hidden} older ended releases are not shown (\`augur status\` lists them all)`;
  const nodes = hidden > 0 ? [...cards, page.more] : cards;
  // Only a changed card is replaced: a button under the pointer is not swapped while it is pressed.
  const current = [...page.releases.children];
  if (current.length !== nodes.length || current.some((el, i) => el !== nodes[i]))
    page.releases.replaceChildren(...nodes);
}

// ── the selected release's event log ────────────────────────────────────────────────────────────

/**
 * @param {string | null} name
 * @param {boolean} byUser
 */
function select(name, byUser) {
  if (byUser) state.chosen = true;
  if (name === state.selected && (name === null || state.logStream !== null)) return;
  state.selected = name;
  openLog(name);
  // The cards show which one is selected.
  if (byUser) showReleases(state.all);
}

function closeLog() {
  state.logStream?.close();
  state.logStream = null;
}

/** @param {string | null} name */
function openLog(name) {
  closeLog();
  page.log.replaceChildren();
  page.logNote.hidden = true;
  if (name === null) {
    page.logRelease.textContent = '';
    status(page.logStatus, 'idle', 'no release selected');
    return;
  }
  page.logRelease.textContent = `of ${name}`;
  const view = state.views.find((v) => v.name === name);
  const after = view === undefined ? -1 : Math.max(-1, view.lastSequence - LOG_REPLAY);
  if (after >= 0) {
    page.logNote.textContent = `${after + 1} earlier events are not shown (GET /api/v1/releases/${name}/events has them all)`;
    page.logNote.hidden = false;
  }
  const epoch = state.epoch;
  const handle = { close: () => {}, release: name };
  state.logStream = handle;
  const stream = openEventStream(
    `/api/v1/releases/${encodeURIComponent(name)}/events/stream?after=${after}`,
    {
      headers: api.auth,
      onStatus: (s) => {
        if (epoch !== state.epoch || state.logStream !== handle) return;
        const [kind, text] = describeStream(s);
        status(page.logStatus, kind, text);
      },
      onMessage: (message) => {
        if (epoch !== state.epoch || state.logStream !== handle) return;
        let event;
        try {
          event = JSON.parse(message.data);
        } catch {
          return;
        }
        if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return;
        page.log.prepend(eventItem(event));
        while (page.log.childElementCount > LOG_KEPT) page.log.lastElementChild?.remove();
      },
    },
  );
  handle.close = () => stream.close();
}

// ── actions ─────────────────────────────────────────────────────────────────────────────────────

/**
 * @param {string} release
 * @param {string} action
 * @param {string} [service]
 */
async function act(release, action, service) {
  const target = service === undefined ? `release ${release}` : `${service} in release ${release}`;
  const question = CONFIRM[/** @type {keyof typeof CONFIRM} */ (action)];
  if (question !== undefined && !window.confirm(question.replace('{target}', target))) return;
  const card = state.cards.get(release)?.card;
  const buttons = card === undefined ? [] : [...card.querySelectorAll('button.act')];
  for (const b of buttons) /** @type {HTMLButtonElement} */ (b).disabled = true;
  try {
    await api.post(`/api/v1/releases/${encodeURIComponent(release)}/actions`, {
      action,
      ...(service === undefined ? {} : { service }),
    });
    page.notice.hidden = true;
  } catch (error) {
    const said = error instanceof ApiError ? `${error.message} [${error.code}]` : String(error);
    notify(`${action} ${target} failed: ${said}`);
  } finally {
    for (const b of buttons) /** @type {HTMLButtonElement} */ (b).disabled = false;
    scheduleRefresh(0);
  }
}

// ── wiring ──────────────────────────────────────────────────────────────────────────────────────

page.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = page.tokenInput.value.trim();
  if (token === '') return;
  page.tokenInput.value = '';
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  page.notice.hidden = true;
  void signIn();
});

page.forget.addEventListener('click', () => {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  state.cards.clear();
  void signIn();
});

page.noticeClose.addEventListener('click', () => {
  page.notice.hidden = true;
});

page.showObservations.addEventListener('change', () => {
  page.log.classList.toggle('hide-observations', !page.showObservations.checked);
});

void signIn();
