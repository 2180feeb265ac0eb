// The soak's plot, in the style of the bench's chart: two panels over the run's time, resident memory (MB) and
// event-loop delay p99 (ms) of each service, the phases shaded and named, the 50 ms goal dashed.
const COLORS = {
  gateway: '#43a047',
  'gateway (team)': '#fb8c00',
  'openai-relay': '#1e88e5',
  'claude-bridge': '#8e24aa',
};
const PHASE_FILLS = { '500 streams': '#e3f2fd', 'mixed soak': '#fff3e0', settle: '#f1f8e9' };
const EVENT_LOOP_GOAL_MS = 50;
const escape = (text) => String(text).replace(/[<>&"]/g, (character) => `&#${character.charCodeAt(0)};`);

/** A rounded-up axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value) ?? 10 * magnitude;
}

/** One panel: a line per service of `pick(sample)` over time, with its axis and title. */
function panel({ samples, services, pick, title, unit, top, height, left, width, xOf, goal }) {
  const values = samples
    .flatMap((sample) => services.map((name) => pick(sample.services[name])))
    .filter(Number.isFinite);
  const max = niceMax(Math.max(goal ?? 0, ...values, 1));
  const y = (value) => top + height - (value / max) * height;
  const parts = [
    `<text x="${left}" y="${top - 8}" font-size="12">${escape(title)}</text>`,
    `<line x1="${left}" x2="${left + width}" y1="${top + height}" y2="${top + height}" stroke="#000"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" stroke="#000"/>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const value = max * tick;
    parts.push(
      `<text x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${Number.isInteger(value) ? value : value.toFixed(1)}</text>`,
    );
    parts.push(`<line x1="${left}" x2="${left + width}" y1="${y(value)}" y2="${y(value)}" stroke="#eee"/>`);
  }
  parts.push(
    `<text x="${left - 40}" y="${top + height / 2}" transform="rotate(-90 ${left - 40} ${top + height / 2})" text-anchor="middle">${escape(unit)}</text>`,
  );
  if (goal !== undefined) {
    parts.push(
      `<line x1="${left}" x2="${left + width}" y1="${y(goal)}" y2="${y(goal)}" stroke="#c62828" stroke-dasharray="5 3"/>`,
    );
    parts.push(
      `<text x="${left + width - 4}" y="${y(goal) - 4}" text-anchor="end" fill="#c62828">goal ${goal} ${escape(unit)}</text>`,
    );
  }
  for (const name of services) {
    const points = samples
      .map((sample) => [sample.t, pick(sample.services[name])])
      .filter(([, value]) => Number.isFinite(value))
      .map(([t, value]) => `${xOf(t).toFixed(1)},${y(value).toFixed(1)}`);
    if (points.length > 0)
      parts.push(
        `<polyline fill="none" stroke="${COLORS[name] ?? '#616161'}" stroke-width="1.5" points="${points.join(' ')}"/>`,
      );
  }
  return parts;
}

/**
 * The SVG of a run: `samples` ({ t, services: { name: { rssMb, eventLoopP99Ms } } }), `phases` ({ name, from, to }
 * in seconds), `services` (names, in legend order).
 */
export function renderSoakChart({ samples, phases, services, title }) {
  const left = 70;
  const width = 760;
  const panelHeight = 170;
  const end = Math.max(1, ...samples.map((sample) => sample.t), ...phases.map((phase) => phase.to));
  const xOf = (t) => left + (t / end) * width;
  const totalWidth = left + width + 170;
  const totalHeight = 40 + 2 * (panelHeight + 50) + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${totalHeight}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="13">${escape(title)}</text>`,
  ];
  const panels = [
    { pick: (service) => service?.rssMb, title: 'Resident memory (VmRSS)', unit: 'MB' },
    {
      pick: (service) => service?.eventLoopP99Ms,
      title: 'Event-loop delay p99 per 2 s sample (prom-client, 10 ms resolution included)',
      unit: 'ms',
      goal: EVENT_LOOP_GOAL_MS,
    },
  ];
  panels.forEach((options, index) => {
    const top = 50 + index * (panelHeight + 50);
    for (const phase of phases) {
      parts.push(
        `<rect x="${xOf(phase.from).toFixed(1)}" y="${top}" width="${(xOf(phase.to) - xOf(phase.from)).toFixed(1)}" height="${panelHeight}" fill="${PHASE_FILLS[phase.name] ?? '#f5f5f5'}"/>`,
      );
      if (index === 0)
        parts.push(`<text x="${xOf(phase.from) + 3}" y="${top + 12}" fill="#555">${escape(phase.name)}</text>`);
    }
    parts.push(...panel({ samples, services, top, height: panelHeight, left, width, xOf, ...options }));
  });
  const axisY = 50 + 2 * (panelHeight + 50) - 35;
  for (let tick = 0; tick <= 5; tick += 1) {
    const t = (end * tick) / 5;
    parts.push(`<text x="${xOf(t)}" y="${axisY}" text-anchor="middle">${Math.round(t)} s</text>`);
  }
  services.forEach((name, index) => {
    const legendY = 50 + index * 18;
    parts.push(
      `<rect x="${left + width + 20}" y="${legendY}" width="12" height="12" fill="${COLORS[name] ?? '#616161'}"/>`,
    );
    parts.push(`<text x="${left + width + 38}" y="${legendY + 10}">${escape(name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
