/**
 * A small Prometheus metrics registry (text exposition format 0.0.4): counters, gauges and
 * histograms with labels, rendered by `GET /metrics`. One registry per server; the generation
 * engine registers its own metrics in the same registry.
 *
 *   # HELP name help text
 *   # TYPE name counter|gauge|histogram
 *   name{label="value"} 42
 *   name_bucket{le="0.005"} 3 … name_bucket{le="+Inf"} 7, name_sum 0.12, name_count 7
 *
 * Histogram buckets are cumulative (`le` = "less than or equal"), as Prometheus expects.
 */

export type Labels = Record<string, string | number>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelKey(labels: Labels | undefined, names: readonly string[], metric: string): string {
  const given = Object.keys(labels ?? {});
  for (const k of given) if (!names.includes(k)) throw new Error(`metrics: ${metric} has no label '${k}' (labels: ${names.join(', ') || 'none'})`);
  return names.map((n) => `${n}="${escapeLabel(String(labels?.[n] ?? ''))}"`).join(',');
}

function fmt(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(12));
}

function checkName(name: string): void {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`metrics: invalid metric name '${name}'`);
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly type: 'counter' | 'gauge' | 'histogram') {
    checkName(name);
  }
  abstract lines(): string[];
  /** The metric in Prometheus text format: `# HELP` and `# TYPE` lines, then one line per series. */
  render(): string {
    return [`# HELP ${this.name} ${this.help.replace(/\n/g, ' ')}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

/**
 * A monotonically increasing count.
 * @example
 * ```ts
 * const reg = new serve.MetricsRegistry();
 * const requests = reg.counter('app_requests_total', 'Requests served.', ['route']);
 * requests.inc({ route: '/v1/ner' });
 * requests.get({ route: '/v1/ner' });     // 1
 * ```
 */
export class Counter extends Metric {
  private readonly values = new Map<string, number>();
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'counter');
  }
  /**
   * Adds `by` (default 1) to the series with these labels.
   * @throws Error when `by` is negative (a counter only increases) or a label is not one of the counter's label names.
   */
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`metrics: counter ${this.name} can only increase, got ${by}`);
    const k = labelKey(labels, this.labelNames, this.name);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** Current value of the series with these labels (0 if never incremented). */
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels, this.labelNames, this.name)) ?? 0;
  }
  /** The sample lines, `name{labels} value` per series (`name 0` for an unlabelled counter never incremented). */
  lines(): string[] {
    if (this.values.size === 0 && this.labelNames.length === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
  }
}

/**
 * A value that goes up and down; `collect` (optional) sets it at render time.
 * @example
 * ```ts
 * const reg = new serve.MetricsRegistry();
 * const depth = reg.gauge('app_queue_depth', 'Texts waiting.', [], (g) => g.set(queue.length)); // set at every render
 * ```
 */
export class Gauge extends Metric {
  private readonly values = new Map<string, number>();
  constructor(name: string, help: string, labelNames: readonly string[] = [], private readonly collect?: (g: Gauge) => void) {
    super(name, help, labelNames, 'gauge');
  }
  /** Sets the series with these labels to `v`. */
  set(v: number, labels?: Labels): void {
    this.values.set(labelKey(labels, this.labelNames, this.name), v);
  }
  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels, this.labelNames, this.name);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** Subtracts `by` (default 1) from the series with these labels. */
  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }
  /** Current value of the series with these labels (0 if never set). */
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels, this.labelNames, this.name)) ?? 0;
  }
  /** Runs the `collect` callback (if any), then the sample lines, `name{labels} value` per series. */
  lines(): string[] {
    this.collect?.(this);
    if (this.values.size === 0 && this.labelNames.length === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
  }
}

/**
 * Observations counted into cumulative buckets, with their sum and count.
 * @example
 * ```ts
 * const reg = new serve.MetricsRegistry();
 * const latency = reg.histogram('app_latency_seconds', 'Request latency.', [0.01, 0.1, 1]);
 * latency.observe(0.05);
 * latency.get();                          // { count: 1, sum: 0.05 }
 * reg.render();                           // …app_latency_seconds_bucket{le="0.1"} 1 … _sum 0.05 … _count 1
 * ```
 */
export class Histogram extends Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  /** Upper bounds of the buckets (finite, strictly increasing); the `+Inf` bucket is implicit. */
  readonly buckets: number[];
  constructor(name: string, help: string, buckets: number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'histogram');
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`metrics: histogram ${name} needs finite, strictly increasing buckets, got [${buckets.join(', ')}]`);
    }
    this.buckets = [...buckets];
  }
  /** Records one observation `v` in the series with these labels: the first bucket with v ≤ bound, the sum and the count. */
  observe(v: number, labels?: Labels): void {
    const k = labelKey(labels, this.labelNames, this.name);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  /** Count and sum of one series. */
  get(labels?: Labels): { count: number; sum: number } {
    const s = this.series.get(labelKey(labels, this.labelNames, this.name));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }
  /** Per series: cumulative `_bucket{le=…}` lines (with `+Inf`), then `_sum` and `_count`. */
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      let acc = 0;
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => {
        acc += s.counts[i]!;
        out.push(`${this.name}_bucket{${sep}le="${fmt(b)}"} ${acc}`);
      });
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

/**
 * The registry: metrics by name, rendered in registration order.
 * @example
 * const reg = new MetricsRegistry();
 * const hits = reg.counter('app_hits_total', 'Hits.', ['route']);
 * hits.inc({ route: '/v1/ner' });
 * reg.render(); // '# HELP app_hits_total Hits.\n# TYPE app_hits_total counter\napp_hits_total{route="/v1/ner"} 1\n'
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metrics: '${m.name}' is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }
  /**
   * Creates and registers a Counter.
   * @throws Error when the name is invalid or already registered.
   */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  /**
   * Creates and registers a Gauge; `collect`, if given, sets its values each time it is rendered.
   * @throws Error when the name is invalid or already registered.
   */
  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (g: Gauge) => void): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect));
  }
  /**
   * Creates and registers a Histogram with these bucket upper bounds.
   * @throws Error when the name is invalid or already registered, or the buckets are not finite and strictly increasing.
   */
  histogram(name: string, help: string, buckets: number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, buckets, labelNames));
  }
  /** The metric registered under `name`, or undefined. */
  get(name: string): Metric | undefined {
    return this.metrics.get(name);
  }
  /** Prometheus text format; serve with `Content-Type: text/plain; version=0.0.4`. */
  render(): string {
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }
}

/** The Content-Type of Prometheus' text exposition format (`/metrics`). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
