/**
 * The playground page (issue #20 item 2): controls, the live loss curve and tokens/s, attention
 * heatmaps per layer and head, predictions on typed text and the graph view of one training step.
 * All computing happens in worker.ts; this file only draws what the worker reports.
 *
 * `window.playground` is the page's small scripting API, used by the browser test
 * (test/browser/run.ts): setup, train N steps, predict, draw the graph, run golden cases.
 */
import type { AttentionMaps, BackendName, FromWorker, GoldenCase, GoldenResult, GraphStep, TaskName, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'tensorgrad-model' });
const send = (m: ToWorker) => worker.postMessage(m);

interface State {
  task: TaskName;
  backend: BackendName;
  losses: number[];
  tokensPerSecond: number;
  ready: Extract<FromWorker, { type: 'ready' }> | null;
  training: boolean;
  errors: string[];
  prediction: string;
  attentionLayers: number;
  graphSvg: boolean;
}
const state: State = {
  task: 'gpt', backend: 'cpu', losses: [], tokensPerSecond: 0, ready: null, training: false, errors: [], prediction: '', attentionLayers: 0, graphSvg: false,
};

// one-shot waiters for the scripting API
const waiters: { type: FromWorker['type']; resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
function waitFor<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => waiters.push({ type, resolve: resolve as (m: FromWorker) => void, reject }));
}

// ---- drawing ---------------------------------------------------------------------------------------

function drawLoss(): void {
  const c = $<HTMLCanvasElement>('loss');
  const g = c.getContext('2d')!;
  const W = c.width, H = c.height, pad = 36;
  g.clearRect(0, 0, W, H);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  const ys = state.losses;
  g.strokeStyle = '#ccc';
  g.strokeRect(pad, 8, W - pad - 8, H - pad - 8);
  if (ys.length === 0) return;
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const span = hi - lo || 1;
  const x = (i: number) => pad + ((W - pad - 8) * i) / Math.max(1, ys.length - 1);
  const y = (v: number) => 8 + (H - pad - 8) * (1 - (v - lo) / span);
  g.fillStyle = '#666';
  g.font = '11px sans-serif';
  g.fillText(hi.toFixed(2), 2, 16);
  g.fillText(lo.toFixed(2), 2, H - pad);
  g.fillText(`step ${ys.length}`, W - 70, H - 12);
  // raw losses, light; a running mean over 10 steps, dark
  g.strokeStyle = '#9ecae1';
  g.beginPath();
  ys.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
  g.stroke();
  g.strokeStyle = '#08519c';
  g.lineWidth = 2;
  g.beginPath();
  let acc = 0;
  ys.forEach((v, i) => {
    acc += v - (i >= 10 ? ys[i - 10]! : 0);
    const m = acc / Math.min(i + 1, 10);
    if (i) g.lineTo(x(i), y(m));
    else g.moveTo(x(i), y(m));
  });
  g.stroke();
  g.lineWidth = 1;
}

function drawAttention(a: AttentionMaps): void {
  const root = $('attention');
  root.textContent = '';
  const heads = a.maps[0]?.length ?? 0;
  root.style.gridTemplateColumns = `repeat(${heads}, max-content)`;
  const T = a.tokens.length;
  const cell = Math.max(4, Math.min(10, Math.floor(180 / Math.max(1, T))));
  a.maps.forEach((layer, l) => {
    layer.forEach((m, h) => {
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      cap.textContent = `layer ${l} · head ${h}`;
      const cv = document.createElement('canvas');
      const Tk = m.length / T;
      cv.width = Tk * cell;
      cv.height = T * cell;
      const g = cv.getContext('2d')!;
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < Tk; j++) {
          const v = m[i * Tk + j]!;
          const s = Math.round(255 * (1 - Math.sqrt(Math.max(0, Math.min(1, v)))));
          g.fillStyle = `rgb(${s},${s},255)`;
          g.fillRect(j * cell, i * cell, cell, cell);
        }
      }
      cv.title = a.tokens.join(' ');
      const toks = document.createElement('div');
      toks.className = 'tokens';
      toks.textContent = a.tokens.map((t) => (t === ' ' ? '␣' : t)).join(a.tokens.every((t) => t.length === 1) ? '' : ' ');
      fig.append(cap, cv, toks);
      root.append(fig);
    });
  });
  state.attentionLayers = a.maps.length;
}

function drawGraph(m: Extract<FromWorker, { type: 'graph' }>): void {
  const view = $('graph-view');
  const list = $('graph-steps');
  $('graph-note').textContent = m.note;
  view.innerHTML = m.svg ?? '';
  state.graphSvg = m.svg !== null && view.querySelector('svg') !== null;
  list.textContent = '';
  m.steps.forEach((s: GraphStep, i: number) => {
    const row = document.createElement('div');
    row.className = 'step';
    row.textContent = `${i + 1}. ${s.op}: ${s.formula}  ${s.detail}`;
    row.onclick = () => {
      list.querySelectorAll('.step.active').forEach((e) => e.classList.remove('active'));
      row.classList.add('active');
      view.querySelectorAll('.tg-active').forEach((e) => e.classList.remove('tg-active'));
      for (const id of s.ids) document.getElementById(id)?.classList.add('tg-active');
      document.getElementById(s.ids[0]!)?.scrollIntoView({ block: 'nearest', inline: 'center' });
    };
    list.append(row);
  });
}

function setStatus(s: string): void {
  $('status').textContent = s;
}

// ---- worker messages ----------------------------------------------------------------------------------

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      state.ready = m;
      $('info').textContent = `${m.description} · ${m.parameters.toLocaleString('en')} parameters · backend ${m.backend}: ${m.backendDescription}` +
        (m.backend === 'cpu' ? ` · ${m.threads} thread(s)${m.crossOriginIsolated ? '' : ' (page not cross-origin isolated: one thread)'}` : '');
      setStatus('ready');
      for (const id of ['train', 'predict', 'graph']) $<HTMLButtonElement>(id).disabled = false;
      break;
    case 'step':
      state.losses.push(m.loss);
      state.tokensPerSecond = m.tokensPerSecond;
      $('stats').textContent = `step ${m.step} · loss ${m.loss.toFixed(3)} · ${Math.round(m.tokensPerSecond).toLocaleString('en')} tokens/s · ${m.ms.toFixed(0)} ms/step`;
      drawLoss();
      break;
    case 'paused':
      state.training = false;
      $('train').textContent = 'Train';
      setStatus(`paused at step ${m.step}`);
      break;
    case 'prediction':
      state.prediction = m.text;
      $('prediction').innerHTML = m.html;
      break;
    case 'attention':
      drawAttention(m.attention);
      break;
    case 'graph':
      drawGraph(m);
      break;
    case 'golden':
      break;
    case 'error': {
      state.errors.push(m.message);
      const el = $('prediction');
      el.innerHTML = '';
      const err = document.createElement('div');
      err.className = 'error';
      err.textContent = m.message.split('\n')[0]!;
      el.append(err);
      setStatus('error');
      console.warn('worker error:', m.message);
      for (const w of waiters.splice(0)) w.reject(new Error(m.message));
      return;
    }
  }
  for (let i = 0; i < waiters.length; i++) {
    if (waiters[i]!.type === m.type) {
      waiters.splice(i, 1)[0]!.resolve(m);
      break;
    }
  }
};
worker.onerror = (e) => {
  state.errors.push(e.message);
  setStatus(`worker failed: ${e.message}`);
};

// ---- controls ---------------------------------------------------------------------------------------

function selectedBackend(): BackendName {
  return (document.querySelector<HTMLInputElement>('input[name=backend]:checked')?.value ?? 'cpu') as BackendName;
}

async function setup(task: TaskName, backend: BackendName, seed = 1) {
  state.task = task;
  state.backend = backend;
  state.losses = [];
  state.training = false;
  drawLoss();
  $('stats').textContent = '';
  $('graph-view').textContent = '';
  $('graph-steps').textContent = '';
  for (const id of ['train', 'predict', 'graph']) $<HTMLButtonElement>(id).disabled = true;
  setStatus(`building ${task} on ${backend}…`);
  const ready = waitFor('ready');
  send({ type: 'setup', task, backend, seed });
  return ready;
}

async function train(steps: number) {
  state.training = true;
  $('train').textContent = 'Pause';
  setStatus('training…');
  const done = waitFor('paused');
  send({ type: 'train', steps });
  return done;
}

$('reset').onclick = () => void setup($<HTMLSelectElement>('task').value as TaskName, selectedBackend(), Number($<HTMLInputElement>('seed').value) || 0);
$('task').onchange = () => $('reset').click();
$('backend').onchange = () => $('reset').click();
$('train').onclick = () => {
  if (state.training) send({ type: 'pause' });
  else void train(100_000);
};
$('predict').onclick = () => send({ type: 'predict', text: $<HTMLTextAreaElement>('text').value });
$('graph').onclick = () => send({ type: 'graph' });

// ---- scripting API (the browser test) ------------------------------------------------------------------

const api = {
  state,
  setup,
  train,
  async predict(text: string) {
    $<HTMLTextAreaElement>('text').value = text;
    const p = waitFor('prediction');
    send({ type: 'predict', text });
    return p;
  },
  async graph() {
    const g = waitFor('graph');
    send({ type: 'graph' });
    return g;
  },
  async golden(cases: GoldenCase[]): Promise<GoldenResult[]> {
    const r = waitFor('golden');
    send({ type: 'golden', cases });
    return (await r).results;
  },
};
(window as unknown as { playground: typeof api }).playground = api;

drawLoss();
void setup('gpt', 'cpu');
