// Results panel: rendered by the results webview.
