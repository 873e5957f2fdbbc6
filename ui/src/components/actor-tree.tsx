import { Fragment, useState } from 'react';
import type { ActorNode } from '../lib/api.js';
import { ago, duration, quantity } from '../lib/format.js';

export interface ActorTreeProps {
  readonly tree: readonly ActorNode[];
  /** Paths whose restart count went up recently (highlighted). */
  readonly recentlyRestarted?: ReadonlySet<string>;
  readonly nowMs: number;
}

const name = (path: string): string => path.split('/').filter(Boolean).pop() ?? path;

/** The supervision tree as a table: one row per actor, indented by depth, groups collapsible. */
export function ActorTree({ tree, recentlyRestarted, nowMs }: ActorTreeProps) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const toggle = (path: string): void =>
    setCollapsed((previous) => {
      const next = new Set(previous);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const rows = (nodes: readonly ActorNode[], depth: number): React.ReactNode =>
    nodes.map((node) => {
      const average = node.processed > 0 ? node.processingTimeUsTotal / node.processed : 0;
      const isCollapsed = collapsed.has(node.path);
      const flagged = recentlyRestarted?.has(node.path) ?? false;
      return (
        <Fragment key={node.path}>
          <tr
            className={`actor-row status-${node.status}${flagged ? ' flash' : ''}`}
            data-path={node.path}
            data-restarts={node.restarts}
            data-status={node.status}
            aria-level={depth + 1}
          >
            <th scope="row" className="actor-name" style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
              {node.children.length > 0 ? (
                <button
                  type="button"
                  className="link tree-toggle"
                  aria-expanded={!isCollapsed}
                  aria-label={`${isCollapsed ? 'Expand' : 'Collapse'} ${node.path}`}
                  onClick={() => toggle(node.path)}
                >
                  {isCollapsed ? '▸' : '▾'}
                </button>
              ) : (
                <span className="tree-toggle" aria-hidden="true" />
              )}
              <span title={node.path}>{name(node.path)}</span>
              {node.children.length > 0 ? <span className="muted small"> ({node.children.length})</span> : null}
            </th>
            <td>{node.kind}</td>
            <td>
              <span className={`badge badge-${node.status}`}>{node.status}</span>
            </td>
            <td className={`num${node.mailboxDepth > 1000 ? ' warn' : ''}`}>{quantity(node.mailboxDepth)}</td>
            <td className="num">{quantity(node.processed)}</td>
            <td className="num">{duration(average)}</td>
            <td className="num">{duration(node.processingTimeUsMax)}</td>
            <td className={`num${node.restarts > 0 ? ' warn' : ''}`} data-testid="restarts">
              {quantity(node.restarts)}
            </td>
            <td className="num">{quantity(node.failures)}</td>
            <td className="small">{node.lastError ? `${node.lastError.message} (${ago(node.lastError.atMs, nowMs)})` : ''}</td>
          </tr>
          {isCollapsed ? null : rows(node.children, depth + 1)}
        </Fragment>
      );
    });

  return (
    <table className="grid actor-tree" aria-label="Supervision tree">
      <thead>
        <tr>
          <th scope="col">Actor</th>
          <th scope="col">Kind</th>
          <th scope="col">State</th>
          <th scope="col" className="num">
            Mailbox
          </th>
          <th scope="col" className="num">
            Processed
          </th>
          <th scope="col" className="num">
            Avg time
          </th>
          <th scope="col" className="num">
            Max time
          </th>
          <th scope="col" className="num">
            Restarts
          </th>
          <th scope="col" className="num">
            Failures
          </th>
          <th scope="col">Last error</th>
        </tr>
      </thead>
      <tbody>{rows(tree, 0)}</tbody>
    </table>
  );
}
