// The console's pages, in the order of the navigation. A page is
// {id, title, route, render(ctx, root, match)}; render may return
// {refresh, onStats, onEvent, leave}.
import { activityPage } from './activity.js';
import { channelsPage } from './channels.js';
import { configsPage } from './configs.js';
import { groupsPage } from './groups.js';
import { profilesPage } from './profiles.js';
import { unknownPage } from './unknown.js';

export const pages = [configsPage, channelsPage, profilesPage, groupsPage, unknownPage, activityPage];
