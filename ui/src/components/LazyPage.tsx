import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorPanel } from './ErrorPanel';
import { Loading } from './bits';

/**
 * A screen whose code loads when it is first opened (its own chunk), so
 * the first bundle stays the login, dashboard and cluster pages. A chunk
 * that fails to load (an appliance upgraded under the page) says so.
 */
interface Loader {
  (): Promise<ComponentType>;
}

export function lazyPage(load: Loader): ComponentType {
  let loaded: ComponentType | undefined;
  return function LazyPage() {
    const [page, setPage] = useState<{ C: ComponentType } | undefined>(loaded ? { C: loaded } : undefined);
    const [failed, setFailed] = useState<unknown>(undefined);
    useEffect(() => {
      if (loaded) return;
      load().then((C) => {
        loaded = C;
        setPage({ C });
      }, setFailed);
    }, []);
    if (failed) return <ErrorPanel error={failed} />;
    if (!page) return <Loading />;
    return <page.C />;
  };
}
