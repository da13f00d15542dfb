// The self-contained HTML report (`hypershield report --html`): the same sections and charts as the results
// panel, drawn from the JSON embedded in the page. The page needs:
//   <script type="application/json" id="run-data">{ "run": RunFile, "compare"?: RunFile, "headlines": {...} }</script>
//   <main id="report"></main>   (created when missing)
// and this bundle in a plain <script> after them. When every chart has drawn, <body> gets data-rendered="true".
import css from '../../media/results.css';
import { readTheme } from '../shared/charts';
import { isReportData } from '../shared/protocol';
import { ReportRenderer, el } from '../shared/render';
import { benchmarksOf, headlineOf } from '../shared/run-data';

function render(): void {
  document.head.append(el('style', { text: css }));
  const root = document.getElementById('report') ?? document.body.appendChild(el('main', { id: 'report' }));
  let data: unknown;
  try {
    data = JSON.parse(document.getElementById('run-data')?.textContent ?? '');
  } catch (err) {
    root.replaceChildren(el('p', { class: 'hs-error', text: `This report's embedded run data is not JSON: ${(err as Error).message}` }));
    return;
  }
  if (!isReportData(data)) {
    root.replaceChildren(el('p', { class: 'hs-error', text: 'This report\'s embedded run data is not a HyperShield run.' }));
    return;
  }
  const pass = { rendered: 0, total: undefined as number | undefined };
  const done = () => {
    if (pass.total !== undefined && pass.rendered >= pass.total) document.body.dataset.rendered = 'true';
  };
  const renderer = new ReportRenderer({ theme: readTheme(), onRendered: () => { pass.rendered += 1; done(); } });
  renderer.header(root, data);
  renderer.overview(root, data);
  renderer.headlines(root, data);
  for (const benchmark of benchmarksOf(data.run)) {
    const metric = headlineOf(data, data.run, benchmark);
    if (metric) renderer.detail(root, data, benchmark, metric);
  }
  renderer.perf(root, data.run);
  renderer.metadata(root, data);
  pass.total = renderer.charts.length;
  done();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', render);
else render();
