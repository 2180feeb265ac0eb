// A small SVG bar chart: each scenario's rate as a ratio to the floor, one bar per target.
const COLORS = {
  direct: '#9e9e9e',
  floor: '#455a64',
  'floor+floor': '#90a4ae',
  'openai-relay': '#1e88e5',
  'gateway+relay': '#43a047',
  'gateway+relay /v1': '#81c784',
  'gateway+relay (team)': '#fb8c00',
  'gateway+relay (team, in-process limits)': '#fdd835',
};
const escape = (text) => String(text).replace(/[<>&"]/g, (character) => `&#${character.charCodeAt(0)};`);

export function renderChart(rows) {
  const scenarios = [...new Set(rows.map((row) => row.scenario))];
  const targets = [...new Set(rows.map((row) => row.target))];
  const barWidth = 22;
  const groupWidth = targets.length * barWidth + 30;
  const height = 260;
  const top = 30;
  const plot = 180;
  const maxRatio = Math.max(1.2, ...rows.map((row) => (Number.isFinite(row.ratioToFloor) ? row.ratioToFloor : 0)));
  const width = 60 + scenarios.length * groupWidth + 160;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13">Throughput as a ratio to the floor (node:http + undici), higher is better</text>`,
  ];
  const y = (ratio) => top + plot - (ratio / maxRatio) * plot;
  parts.push(`<line x1="50" x2="${width - 160}" y1="${y(1)}" y2="${y(1)}" stroke="#000" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="8" y="${y(1) + 4}">1.0</text>`);
  scenarios.forEach((scenario, index) => {
    const left = 60 + index * groupWidth;
    targets.forEach((target, position) => {
      const row = rows.find((candidate) => candidate.scenario === scenario && candidate.target === target);
      const ratio = row && Number.isFinite(row.ratioToFloor) ? row.ratioToFloor : 0;
      const x = left + position * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(ratio)}" width="${barWidth - 4}" height="${top + plot - y(ratio)}" fill="${COLORS[target] ?? '#8e24aa'}"/>`,
      );
      parts.push(`<text x="${x + 2}" y="${y(ratio) - 3}" font-size="9">${ratio.toFixed(2)}</text>`);
    });
    parts.push(`<text x="${left}" y="${top + plot + 16}">${escape(scenario)}</text>`);
  });
  targets.forEach((target, index) => {
    const x = width - 150;
    const legendY = top + index * 18;
    parts.push(`<rect x="${x}" y="${legendY}" width="12" height="12" fill="${COLORS[target] ?? '#8e24aa'}"/>`);
    parts.push(`<text x="${x + 18}" y="${legendY + 10}">${escape(target)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
