// The console's pages, in the order of the navigation. A page is
// {id, title, route, render(ctx, root, match)}; render may return
// {refresh, onStats, onEvent, leave}. A page whose commands the plugin does
// not have yet (profiles, enrollment groups, unknown devices: protocol
// section 7) is added here when they exist, never before.
import { activityPage } from './activity.js';
import { channelsPage } from './channels.js';
import { configsPage } from './configs.js';

export const pages = [configsPage, channelsPage, activityPage];
