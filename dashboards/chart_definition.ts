/**
 * A chart definition — view, measures, dimensions, filters, chart type — checked against the view
 * catalogue, and the Vega-Lite specification stored with it. The definition travels inside the
 * specification (`usermeta.tsunagu`) so an exported spec can be imported again as it is.
 */
import { defineProblem, type JsonSchema, ProblemError } from '../core/index.ts';
import { type AnalyticsView, findView } from './views.ts';

defineProblem('invalid-chart', { status: 422, title: 'Chart definition does not fit the view' });

export const CHART_TYPES = ['bar', 'line', 'area', 'pie', 'table', 'map', 'heatmap'] as const;
export const AGGREGATES = ['sum', 'min', 'max', 'avg'] as const;
export const FILTER_OPS = ['eq', 'in', 'gte', 'lte'] as const;

export type ChartType = (typeof CHART_TYPES)[number];

export interface Filter {
  column: string;
  op: (typeof FILTER_OPS)[number];
  value: string | number | Array<string | number>;
}

export interface ChartDefinition {
  view: string;
  chartType: ChartType;
  dimensions: string[];
  measures: Array<{ column: string; aggregate: (typeof AGGREGATES)[number] }>;
  filters: Filter[];
  /** Map charts: the boundary layer whose areas the view's area dimension names. */
  layer?: string;
}

const scalar = { type: ['string', 'number'] };

export const filterSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['column', 'op', 'value'],
  properties: {
    column: { type: 'string' },
    op: { enum: [...FILTER_OPS] },
    value: { anyOf: [scalar, { type: 'array', items: scalar, minItems: 1, maxItems: 200 }] },
  },
};

export const definitionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['view', 'chartType', 'dimensions', 'measures'],
  properties: {
    view: { type: 'string' },
    chartType: { enum: [...CHART_TYPES] },
    dimensions: { type: 'array', items: { type: 'string' }, maxItems: 3, uniqueItems: true },
    measures: {
      type: 'array',
      minItems: 1,
      maxItems: 6,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['column'],
        properties: { column: { type: 'string' }, aggregate: { enum: [...AGGREGATES], default: 'sum' } },
      },
    },
    filters: { type: 'array', items: filterSchema, maxItems: 20, default: [] },
    layer: { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' },
  },
};

function invalid(detail: string): never {
  throw new ProblemError('invalid-chart', { detail });
}

/** Checks every name against the view; returns the view. */
export function checkDefinition(d: ChartDefinition): AnalyticsView {
  const view = findView(d.view) ?? invalid(`No view ${d.view}.`);
  for (const dim of d.dimensions)
    if (!(dim in view.dimensions)) invalid(`${dim} is not a dimension of ${view.name}.`);
  for (const m of d.measures)
    if (!(m.column in view.measures)) invalid(`${m.column} is not a measure of ${view.name}.`);
  checkFilters(view, d.filters);
  if (d.chartType === 'pie' && (d.dimensions.length !== 1 || d.measures.length !== 1))
    invalid('A pie chart has one dimension and one measure.');
  if (['bar', 'line', 'area'].includes(d.chartType) && (d.dimensions.length < 1 || d.dimensions.length > 2))
    invalid(`A ${d.chartType} chart has one or two dimensions.`);
  if (['bar', 'line', 'area'].includes(d.chartType) && d.dimensions.length === 2 && d.measures.length > 1)
    invalid('Two dimensions take one measure.');
  if (d.chartType === 'heatmap' && (d.dimensions.length !== 2 || d.measures.length !== 1))
    invalid('A heat map has two dimensions and one measure.');
  if (d.chartType === 'map') {
    if (!view.area) invalid(`${view.name} has no area dimension to draw on a map.`);
    if (d.dimensions.length !== 1 || d.dimensions[0] !== view.area || d.measures.length !== 1)
      invalid(`A map has the dimension ${view.area} and one measure.`);
    if (d.layer === undefined) invalid('A map names its boundary layer (layer).');
  } else if (d.layer !== undefined) invalid('Only map charts name a boundary layer.');
  return view;
}

function isDay(s: string): boolean {
  const at = Date.parse(`${s}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(at) && new Date(at).toISOString().startsWith(s);
}

export function checkFilters(view: AnalyticsView, filters: Filter[]): void {
  for (const f of filters) {
    if (!(f.column in view.dimensions)) invalid(`Filters apply to dimensions; ${f.column} is not one.`);
    if (f.op === 'in' ? !Array.isArray(f.value) : Array.isArray(f.value))
      invalid(`Filter ${f.column} ${f.op} takes ${f.op === 'in' ? 'a list' : 'one value'}.`);
    const values = Array.isArray(f.value) ? f.value : [f.value];
    if (view.dimensions[f.column] === 'date' && !values.every((v) => isDay(String(v))))
      invalid(`Filter ${f.column} takes days as YYYY-MM-DD.`);
  }
}

const MARKS: Record<ChartType, string> = {
  bar: 'bar',
  line: 'line',
  area: 'area',
  pie: 'arc',
  table: 'text',
  map: 'geoshape',
  heatmap: 'rect',
};

/** The Vega-Lite v5 specification of a chart; rows are bound at render time as the `rows` dataset. */
export function toVegaLite(title: string, d: ChartDefinition, view: AnalyticsView): Record<string, unknown> {
  const fieldType = (dim: string) => (view.dimensions[dim] === 'date' ? 'temporal' : 'nominal');
  const measure = d.measures[0]!.column;
  let encoding: Record<string, unknown>;
  const transform: unknown[] = [];
  if (d.chartType === 'pie') {
    encoding = {
      theta: { field: measure, type: 'quantitative' },
      color: { field: d.dimensions[0], type: 'nominal' },
    };
  } else if (d.chartType === 'heatmap') {
    encoding = {
      x: { field: d.dimensions[0], type: fieldType(d.dimensions[0]!) },
      y: { field: d.dimensions[1], type: fieldType(d.dimensions[1]!) },
      color: { field: measure, type: 'quantitative' },
    };
  } else if (d.chartType === 'map') {
    // The boundary layer is bound at render time as the `boundaries` dataset (GeoJSON features with
    // properties.area); the chart's rows are looked up by area.
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title,
      data: { name: 'boundaries', format: { type: 'json', property: 'features' } },
      transform: [
        {
          lookup: 'properties.area',
          from: { data: { name: 'rows' }, key: d.dimensions[0], fields: [measure] },
        },
      ],
      projection: { type: 'mercator' },
      mark: { type: 'geoshape', tooltip: true, stroke: '#333' },
      encoding: { color: { field: measure, type: 'quantitative' } },
      usermeta: { tsunagu: d },
    };
  } else if (d.chartType === 'table') {
    encoding = {
      row:
        d.dimensions.length > 0 ? { field: d.dimensions[0], type: fieldType(d.dimensions[0]!) } : undefined,
      text: { field: measure, type: 'quantitative' },
    };
  } else {
    const x = d.dimensions[0]!;
    encoding = { x: { field: x, type: fieldType(x), title: x } };
    if (d.measures.length > 1) {
      transform.push({ fold: d.measures.map((m) => m.column), as: ['measure', 'value'] });
      encoding['y'] = { field: 'value', type: 'quantitative' };
      encoding['color'] = { field: 'measure', type: 'nominal' };
    } else {
      encoding['y'] = { field: measure, type: 'quantitative', title: measure };
      if (d.dimensions[1]) encoding['color'] = { field: d.dimensions[1], type: 'nominal' };
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { name: 'rows' },
    mark: { type: MARKS[d.chartType], tooltip: true },
    ...(transform.length > 0 ? { transform } : {}),
    encoding: JSON.parse(JSON.stringify(encoding)),
    usermeta: { tsunagu: d },
  };
}
