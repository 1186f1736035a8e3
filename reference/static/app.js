// The reference page: one EventSource per run, a log, a status, a chart, and visible errors.
// Element hooks (data-testid, data-status, roles) are a contract with the browser tests in e2e/.
import { createApp, nextTick } from "vue";

const STREAM_URL = "/api/stream";
const CONFIG_URL = "/api/config";
// Used until /api/config answers (and if it never does): the defaults of the reference.
const DEFAULT_CONFIG = {
  samples: 20,
  interval: 1.0,
  total_messages: 22,
  sentinel: "RAM monitoring completed",
};
const SAMPLE_PERCENT = /RAM usage: ([0-9]+(?:\.[0-9]+)?)%/;

// The chart's margins in CSS pixels. Its viewBox follows the element's measured width (a
// ResizeObserver), so one user unit is one pixel at any width and labels keep their shape.
const CHART = { width: 600, height: 200, left: 44, right: 16, top: 12, bottom: 28 };
// Steps of the time axis, in seconds: the smallest that gives at most TIME_TICKS intervals.
const TIME_STEPS = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
const TIME_TICKS = 5;

function formatSeconds(value) {
  return `${+value.toFixed(2)} s`;
}

const template = `
  <h1>RAM Monitor Stream</h1>
  <div class="controls">
    <button type="button" data-testid="start" :disabled="busy" @click="start">Start Monitoring RAM</button>
    <button type="button" data-testid="stop" :disabled="!busy" @click="stop">Stop</button>
    <p class="status" :class="'status-' + status" data-testid="status" role="status" :data-status="status">
      <span class="status-dot" aria-hidden="true"></span><span class="status-text">{{ statusText }}</span>
    </p>
  </div>
  <!-- Always in the DOM (empty when there is no error) so screen readers announce new text. -->
  <div class="error" :class="{ 'error-empty': !errorText }" data-testid="error" role="alert">{{ errorText }}</div>
  <section class="chart-box" aria-labelledby="chart-title">
    <div class="chart-head">
      <h2 id="chart-title">RAM usage (%)</h2>
      <p class="latest" data-testid="chart-latest" :data-value="latest === null ? '' : latest">
        <span class="latest-label">latest</span> {{ latest === null ? "–" : latest + " %" }}
      </p>
    </div>
    <svg data-testid="chart" ref="chart" :viewBox="'0 0 ' + chartWidth + ' ' + chart.height" role="img"
         :aria-label="chartLabel">
      <line class="axis" :x1="chart.left" :y1="chart.top" :x2="chart.left" :y2="chart.height - chart.bottom"></line>
      <line class="axis" :x1="chart.left" :y1="chart.height - chart.bottom"
            :x2="chartWidth - chart.right" :y2="chart.height - chart.bottom"></line>
      <text class="tick" data-testid="chart-y-label" :x="chart.left - 6" :y="chart.top + 4" text-anchor="end">{{ yMax }}%</text>
      <text class="tick" :x="chart.left - 6" :y="chart.height - chart.bottom + 4" text-anchor="end">0%</text>
      <g v-for="tick in timeTicks" :key="tick.value" data-testid="chart-x-tick">
        <line class="axis" :x1="tick.x" :x2="tick.x" :y1="chart.height - chart.bottom" :y2="chart.height - chart.bottom + 4"></line>
        <text class="tick" :x="tick.x" :y="chart.height - 10" :text-anchor="tick.anchor">{{ tick.label }}</text>
      </g>
      <polyline v-if="plotted.length" class="line" data-testid="chart-line" :points="polyline"></polyline>
      <circle v-for="p in plotted" :key="p.index" class="point" data-testid="chart-point"
              :cx="p.x" :cy="p.y" r="3.5"><title>sample {{ p.index }}: {{ p.percent }}%</title></circle>
    </svg>
  </section>
  <div class="log-container" data-testid="log" role="log" aria-live="polite" aria-label="Messages" ref="log">
    <p v-if="!lines.length" class="log-empty" data-testid="log-empty">No messages yet: press Start Monitoring RAM</p>
    <div v-for="line in lines" :key="line.key" class="log-line" :class="{ 'log-error': line.error }"
         data-testid="log-line">{{ line.text }}</div>
  </div>
`;

const app = createApp({
  template,
  data() {
    return {
      config: { ...DEFAULT_CONFIG },
      status: "idle",
      received: 0,
      receivedAtError: 0,
      lines: [],
      points: [],
      errorText: "",
      chart: CHART,
      chartWidth: CHART.width,
      startedAt: 0,
    };
  },
  computed: {
    busy() {
      return ["connecting", "streaming", "reconnecting"].includes(this.status);
    },
    statusText() {
      switch (this.status) {
        case "connecting":
          return "Connecting…";
        case "streaming":
          return `Streaming (${this.received}/${this.config.total_messages})`;
        case "reconnecting":
          return `Reconnecting (${this.received}/${this.config.total_messages})…`;
        case "completed":
          return "Completed";
        case "stopped":
          return "Stopped";
        case "error":
          return "Error: connection lost";
        default:
          return "Idle";
      }
    },
    yMax() {
      const highest = Math.max(0, ...this.points.map((p) => p.percent));
      return Math.min(100, Math.max(10, Math.ceil(highest / 10) * 10));
    },
    latest() {
      const last = this.points[this.points.length - 1];
      return last ? last.label : null;
    },
    timeSpan() {
      // Seconds since Start: the run's expected length, or longer if it took longer.
      const expected = (this.config.samples + 1) * this.config.interval;
      const last = this.points[this.points.length - 1];
      return Math.max(expected, last ? last.t : 0, 0.1);
    },
    timeStep() {
      return TIME_STEPS.find((step) => this.timeSpan / step <= TIME_TICKS) || TIME_STEPS[TIME_STEPS.length - 1];
    },
    timeTicks() {
      const ticks = [];
      const count = Math.floor(this.timeSpan / this.timeStep + 1e-9);
      for (let i = 0; i <= count; i += 1) {
        const value = +(i * this.timeStep).toFixed(3);
        const x = this.xAt(value);
        const anchor = i === 0 ? "start" : x > this.chartWidth - CHART.right - 20 ? "end" : "middle";
        ticks.push({ value, x, anchor, label: formatSeconds(value) });
      }
      return ticks;
    },
    plotted() {
      const { height, top, bottom } = CHART;
      let previous = -Infinity;
      return this.points.map((p) => {
        // Strictly left to right even when two messages arrive in the same instant.
        const x = Math.max(this.xAt(p.t), previous + 0.5);
        previous = x;
        return {
          index: p.index,
          percent: p.percent,
          x: +x.toFixed(2),
          y: +(height - bottom - ((height - top - bottom) * Math.min(p.percent, this.yMax)) / this.yMax).toFixed(2),
        };
      });
    },
    polyline() {
      return this.plotted.map((p) => `${p.x},${p.y}`).join(" ");
    },
    chartLabel() {
      const last = this.points[this.points.length - 1];
      return last
        ? `RAM usage chart: ${this.points.length} samples, latest ${last.percent}%`
        : "RAM usage chart: no samples yet";
    },
  },
  async mounted() {
    const svg = this.$refs.chart;
    if (svg && typeof ResizeObserver === "function") {
      this.resizer = new ResizeObserver((entries) => {
        const width = Math.round(entries[entries.length - 1].contentRect.width);
        if (width > 0) this.chartWidth = Math.max(CHART.left + CHART.right + 40, width);
      });
      this.resizer.observe(svg);
    }
    try {
      const response = await fetch(CONFIG_URL, { cache: "no-store" });
      if (response.ok) {
        this.config = { ...DEFAULT_CONFIG, ...(await response.json()) };
      }
    } catch {
      // Keep the defaults: the stream still works, only the expected count may be off.
    }
  },
  beforeUnmount() {
    this.closeSource();
    if (this.resizer) this.resizer.disconnect();
  },
  methods: {
    start() {
      this.closeSource();
      this.lines = [];
      this.points = [];
      this.errorText = "";
      this.received = 0;
      this.receivedAtError = 0;
      this.startedAt = performance.now();
      this.status = "connecting";
      const source = new EventSource(STREAM_URL);
      this.source = source;
      source.onopen = () => {
        if (this.source === source) this.status = "streaming";
      };
      source.onmessage = (event) => this.onMessage(source, event);
      source.onerror = () => this.onError(source);
    },
    stop() {
      if (!this.busy) return;
      this.closeSource();
      this.status = "stopped";
    },
    closeSource() {
      if (this.source) {
        this.source.close();
        this.source = null;
      }
    },
    onMessage(source, event) {
      if (this.source !== source) return;
      this.received += 1;
      this.status = "streaming";
      let text;
      try {
        text = JSON.parse(event.data);
      } catch {
        const message = `Invalid message (not JSON): ${event.data}`;
        this.addLine(message, true);
        this.errorText = message;
        return;
      }
      if (typeof text !== "string") text = JSON.stringify(text);
      this.addLine(text, false);
      const sample = SAMPLE_PERCENT.exec(text);
      if (sample) {
        const t = (performance.now() - this.startedAt) / 1000;
        this.points.push({ index: this.points.length + 1, percent: Number(sample[1]), label: sample[1], t });
      }
      if (text === this.config.sentinel) {
        // Close before the server ends the response, so the browser never reconnects.
        this.closeSource();
        this.status = "completed";
      }
    },
    onError(source) {
      if (this.source !== source) return;
      // A stream cut after messages arrived: let EventSource reconnect once by itself (it sends
      // Last-Event-ID and the server resumes where the page stopped). An error before any message
      // since then (the reconnect failed, or the first connection did) closes it: no
      // reconnection loop; the user decides with the Start button.
      if (source.readyState === EventSource.CONNECTING && this.received > this.receivedAtError) {
        this.receivedAtError = this.received;
        this.status = "reconnecting";
        return;
      }
      this.closeSource();
      this.status = "error";
      this.errorText =
        this.received === 0
          ? `Error: connection lost — could not stream from ${STREAM_URL}. Check that the server runs, then press Start.`
          : `Error: connection lost after ${this.received} of ${this.config.total_messages} messages. Press Start to run again.`;
    },
    xAt(seconds) {
      const { left, right } = CHART;
      return left + ((this.chartWidth - left - right) * seconds) / this.timeSpan;
    },
    addLine(text, error) {
      this.lines.push({ key: this.lines.length, text, error });
      nextTick(() => {
        const log = this.$refs.log;
        if (log) log.scrollTop = log.scrollHeight;
      });
    },
  },
});

app.mount("#app");
