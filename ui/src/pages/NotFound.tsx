import { Link } from '../components/Shell';
import { t } from '../i18n';
import { path } from '../router';

export function NotFound() {
  return (
    <div class="page">
      <h1>{t('notFound.title')}</h1>
      <p>{t('notFound.text', { path: path.value })}</p>
      <p>
        <Link href="/">{t('notFound.home')}</Link>
      </p>
    </div>
  );
}
