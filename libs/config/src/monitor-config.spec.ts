import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { MonitorConfig } from './monitor-config';

describe(MonitorConfig.name, () => {
  it('has working defaults: no alerts, a daily clean-up of what finished 30 days ago, dead tasks kept', () => {
    const sut = loadConfig(MonitorConfig, {});
    expect(sut.alertWebhookUrl).toBeUndefined();
    expect(sut).toMatchObject({
      metricsPort: 9465,
      alertIntervalMs: 60_000,
      alertBufferSize: 1_000,
      retentionCron: '0 3 * * *',
      retentionDays: 30,
      retentionIncludeDead: false,
      retentionBatchSize: 1_000,
      reconcileIntervalMs: 60_000,
      reconcileGraceMs: 30_000,
      reconcileBatchSize: 1_000,
    });
  });

  it('reads the reconciler variables; RECONCILE_INTERVAL_MS=0 turns it off', () => {
    expect(loadConfig(MonitorConfig, { RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '0', RECONCILE_BATCH_SIZE: '50' })).toMatchObject({
      reconcileIntervalMs: 500,
      reconcileGraceMs: 0,
      reconcileBatchSize: 50,
    });
    expect(loadConfig(MonitorConfig, { RECONCILE_INTERVAL_MS: '0' }).reconcileIntervalMs).toBe(0);
  });

  it('reads and converts the alert and retention variables', () => {
    const sut = loadConfig(MonitorConfig, {
      ALERT_WEBHOOK_URL: 'http://alerts.internal:8080/hooks/taskq',
      ALERT_INTERVAL_MS: '5000',
      ALERT_TIMEOUT_MS: '2000',
      ALERT_BUFFER_SIZE: '50',
      RETENTION_CRON: '*/10 * * * * *',
      RETENTION_DAYS: '7',
      RETENTION_INCLUDE_DEAD: 'true',
      RETENTION_BATCH_SIZE: '200',
    });
    expect(sut).toMatchObject({
      alertWebhookUrl: 'http://alerts.internal:8080/hooks/taskq',
      alertIntervalMs: 5_000,
      alertTimeoutMs: 2_000,
      alertBufferSize: 50,
      retentionCron: '*/10 * * * * *',
      retentionDays: 7,
      retentionIncludeDead: true,
      retentionBatchSize: 200,
    });
  });

  it('accepts an https URL, and an empty ALERT_WEBHOOK_URL as unset', () => {
    expect(loadConfig(MonitorConfig, { ALERT_WEBHOOK_URL: 'https://hooks.example.com/x?token=1' }).alertWebhookUrl).toBe('https://hooks.example.com/x?token=1');
    expect(loadConfig(MonitorConfig, { ALERT_WEBHOOK_URL: '' }).alertWebhookUrl).toBeUndefined();
  });

  it.each([
    ['ALERT_WEBHOOK_URL', 'ftp://example.com/x', /ALERT_WEBHOOK_URL="ftp:\/\/example.com\/x": must be an http:\/\/ or https:\/\/ URL/],
    ['ALERT_WEBHOOK_URL', 'example.com/hook', /ALERT_WEBHOOK_URL="example.com\/hook"/],
    ['ALERT_INTERVAL_MS', '10', /ALERT_INTERVAL_MS="10"/],
    ['ALERT_BUFFER_SIZE', '0', /ALERT_BUFFER_SIZE="0"/],
    ['RETENTION_CRON', 'every day', /RETENTION_CRON="every day": must be a cron pattern such as "0 3 \* \* \*"/],
    ['RETENTION_CRON', '61 * * * *', /RETENTION_CRON="61 \* \* \* \*": must be a cron pattern/],
    ['RETENTION_DAYS', '0', /RETENTION_DAYS="0"/],
    ['RETENTION_DAYS', '1.5', /RETENTION_DAYS="1.5"/],
    ['RETENTION_BATCH_SIZE', 'many', /RETENTION_BATCH_SIZE="many"/],
    ['RECONCILE_INTERVAL_MS', '50', /RECONCILE_INTERVAL_MS="50": must be 0 \(off\) or at least 100/],
    ['RECONCILE_INTERVAL_MS', 'often', /RECONCILE_INTERVAL_MS="often"/],
    ['RECONCILE_GRACE_MS', '-1', /RECONCILE_GRACE_MS="-1"/],
    ['RECONCILE_BATCH_SIZE', '0', /RECONCILE_BATCH_SIZE="0"/],
  ])('refuses %s=%s with a message naming it', (variable, value, message) => {
    expect(() => loadConfig(MonitorConfig, { [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig(MonitorConfig, { [variable]: value })).toThrow(message);
  });

  it('reads the webhook URL from ALERT_WEBHOOK_URL_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskq-monitor-config-')), 'alert-url');
    writeFileSync(file, 'https://hooks.example.com/secret-token\n');
    expect(loadConfig(MonitorConfig, { ALERT_WEBHOOK_URL_FILE: file }).alertWebhookUrl).toBe('https://hooks.example.com/secret-token');
  });
});
