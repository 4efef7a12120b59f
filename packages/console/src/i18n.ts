/**
 * Every text the console shows comes from a catalogue: English (complete) and Simplified Chinese (the
 * main screens; missing entries fall back to English). `{name}` placeholders are filled by `t`.
 */
import { useEffect, useState } from "preact/hooks";
import { en, type MessageKey } from "./strings/en.js";
import { zhCN } from "./strings/zh-CN.js";

export type Language = "en" | "zh-CN";
export const LANGUAGES: readonly { id: Language; label: string }[] = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];
const catalogues: Record<Language, Partial<Record<MessageKey, string>>> = { en, "zh-CN": zhCN };

let language: Language = navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
const listeners = new Set<() => void>();

export function setLanguage(l: Language): void {
  language = l;
  document.documentElement.lang = l;
  for (const f of listeners) f();
}
export function currentLanguage(): Language {
  return language;
}

export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const text = catalogues[language][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

/** Re-renders the caller when the language changes. */
export function useLanguage(): Language {
  const [, setTick] = useState(0);
  useEffect(() => {
    const f = () => setTick((n) => n + 1);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return language;
}

export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return "—";
  return new Date(iso).toLocaleString(language, { dateStyle: "medium", timeStyle: "medium" });
}
