/** One dead task in an alert. */
export interface DeadTaskAlert {
  id: string;
  type: string;
  error: string | null;
  attempts: number;
  finishedAt: string;
  /** The task in the REST API. */
  url: string;
}

/** The JSON body the monitor POSTs to ALERT_WEBHOOK_URL when tasks die. */
export interface DeadTaskAlertPayload {
  source: 'taskq';
  dead: DeadTaskAlert[];
  count: number;
  /** Dead tasks left out because more died than the buffer holds (see GET /dlq). */
  dropped: number;
}
