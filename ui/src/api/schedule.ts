// The schedule part's calls (issue 12): calendars and maintenance windows.
// Kept beside index.ts rather than in it, so that the parts built in
// parallel do not all edit one object.

import { client } from './index';
import type { Body, CalendarList, CalendarPreview, HolidayRules, MaintenanceActive, MuteSaved, WindowList, WindowState } from './types';

/** What the forms send (the request bodies' types: every member optional). */
export type CalendarBody = Body<'POST /api/v1/calendars'>;
export type WindowBody = Body<'POST /api/v1/maintenance'>;
export type MuteBody = Body<'POST /api/v1/maintenance/mute'>;
export type PreviewBody = Body<'POST /api/v1/calendars/preview'>;

const id = (s: string) => encodeURIComponent(s);

export const schedule = {
  calendars: () => client.get<CalendarList>('/api/v1/calendars'),
  putCalendar: (c: CalendarBody) => client.post<{ calendar: string }>('/api/v1/calendars', c),
  deleteCalendar: (c: string) => client.delete<{ deleted: string }>(`/api/v1/calendars/${id(c)}`),
  /** Day-by-day hours and the next transitions of a saved or edited calendar (a read: not retried on refusal). */
  previewCalendar: (req: PreviewBody, signal?: AbortSignal) =>
    client.post<CalendarPreview>('/api/v1/calendars/preview', req, { retry: false, ...(signal ? { signal } : {}) }),
  /** Japan's public holidays as rules to add: fixed ones every year, moving ones for `years` years from `from`. */
  holidays: (from: number, years: number) => client.get<HolidayRules>('/api/v1/calendars/holidays', { query: { country: 'jp', from, years } }),
  windows: () => client.get<WindowList>('/api/v1/maintenance'),
  putWindow: (w: WindowBody) => client.post<{ window: string }>('/api/v1/maintenance', w),
  deleteWindow: (w: string) => client.delete<{ deleted: string }>(`/api/v1/maintenance/${id(w)}`),
  endWindow: (w: string) => client.post<WindowState>(`/api/v1/maintenance/${id(w)}/end`, {}),
  mute: (m: MuteBody) => client.post<MuteSaved>('/api/v1/maintenance/mute', m),
  active: (q: { node?: string; scope?: string; monitor?: string }) =>
    client.get<MaintenanceActive>('/api/v1/maintenance/active', { query: q }),
};
