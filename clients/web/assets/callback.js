// callback.js — /callback, the dashboard's redirect URI: redeems the code (PKCE) and returns to the dashboard.
import { finishSignIn } from './auth.js';
import { initPage, t } from './common.js';

initPage({
    da: { page_title: 'Logger ind — klimaspejl', h1: 'Logger ind …', back: 'Tilbage til forsiden', failed: 'Login mislykkedes: {e}' },
    en: { page_title: 'Signing in — klimaspejl', h1: 'Signing in …', back: 'Back to the dashboard', failed: 'Sign-in failed: {e}' },
});
const err = await finishSignIn(new URLSearchParams(location.search));
if (err === null) location.replace('/');
else document.getElementById('cb-status').textContent = t('failed', { e: err });
