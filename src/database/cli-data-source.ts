// DataSource for the TypeORM CLI (migration:generate / migration:run / migration:revert).
import 'reflect-metadata';
import { loadConfig } from '../config/hub-config.js';
import { createDataSource } from './data-source.js';

export default createDataSource(loadConfig({ HUB_MASTER_KEY: 'cli-does-not-decrypt-anything-here-000', ...process.env }));
