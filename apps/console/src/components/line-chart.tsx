import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  values: ReadonlyArray<number | null>;
}

/**
 * A small time-series chart (uPlot: about 50 KB, canvas, fast). Screen readers get the
 * caption and a summary of each series instead of the canvas.
 */
export function LineChart({ title, times, series, summary }: { title: string; times: readonly number[]; series: readonly Series[]; summary: string }): ReactNode {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = Math.max(element.clientWidth, 240);
    const plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [{ stroke: '#4d5560', space: 70 }, { stroke: '#4d5560', size: 50 }],
        series: [{}, ...series.map((line) => ({ label: line.label, stroke: line.color, width: 2, points: { show: false } }))],
      },
      [times.map((ms) => ms / 1_000), ...series.map((line) => [...line.values])] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 240), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series]);
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <figcaption>{title}</figcaption>
      <div ref={container} className="plot" role="img" aria-label={`${title}. ${summary}`} />
    </figure>
  );
}
