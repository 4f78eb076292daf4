import type { TopLevelSpec } from 'vega-lite';

/**
 * Renders a Vega-Lite chart to a standalone SVG string in Node, with no browser and no
 * canvas: the report embeds it inline, so viewing needs nothing from the network.
 * Vega escapes every text and attribute it writes, so labels taken from run configs
 * cannot inject markup.
 *
 * Compiler and runtime warnings are raised as errors: a warning means a chart shows
 * something other than what its spec says (a dropped field, an invalid scale), and a
 * report must not silently carry such a chart.
 */
export async function renderSvg(spec: TopLevelSpec, name: string): Promise<string> {
  // Vega and Vega-Lite take seconds to load: only rendering pays for them, not `check`.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, args) => {
    warnings.push(args.map(String).join(' '));
  });
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), {
    renderer: 'none',
    logger,
  });
  try {
    const svg = await view.toSVG();
    if (warnings.length) throw new Error(`chart '${name}': ${warnings.join('; ')}`);
    return svg;
  } finally {
    view.finalize();
  }
}
