export * from './taskq-client';
export * from './errors';
export * from './server-sent-events';
export type {
  ApiKeyView,
  BulkSubmitResponse,
  CallbackDeliveryView,
  CallbackView,
  CountResponse,
  CreatedApiKeyView,
  PayloadOf,
  ResultOf,
  ScheduleView,
  SigningSecretView,
  SubmitTaskResponse,
  TaskEvent,
  TaskProgress,
  TaskProgressEvent,
  TaskStatusEvent,
  TaskSummaryView,
  TaskType,
  TaskTypeView,
  TaskView,
} from '@taskq/contracts';
