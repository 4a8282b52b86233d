// What frame_viewer shows a person: a frame as an image file (WIC: PNG or BMP), and a window that
// paints the latest frame (GDI StretchDIBits). Both take the top-down BGRA picture to_bgra()
// (pixel_formats.hpp) makes of any published format. Link: windowscodecs ole32 gdi32 user32.
#pragma once

#include "win.hpp"
#include "com.hpp"
#include "pixel_formats.hpp"
#include "text.hpp"

#include <wincodec.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace frame_service {

// A picture: top-down BGRA, rows width * 4 bytes apart.
struct picture {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::byte> bgra;
};

// Writes `p` as PNG or BMP (by the path's extension) through WIC, as 24-bit BGR. Returns "" or
// what failed.
inline std::string write_image(const picture& p, const std::string& path)
{
    const auto ends_with = [&](std::string_view ext) {
        if (path.size() < ext.size()) {
            return false;
        }
        for (std::size_t i = 0; i < ext.size(); ++i) {
            const char c = path[path.size() - ext.size() + i];
            if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != ext[i]) {
                return false;
            }
        }
        return true;
    };
    const GUID* container = ends_with(".png") ? &GUID_ContainerFormatPng : ends_with(".bmp") ? &GUID_ContainerFormatBmp : nullptr;
    if (container == nullptr) {
        return "the snapshot's name must end in .png or .bmp: " + path;
    }
    const HRESULT com = ::CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    std::string error;
    {
        mf::com_ptr<IWICImagingFactory> factory;
        mf::com_ptr<IWICStream> stream;
        mf::com_ptr<IWICBitmapEncoder> encoder;
        mf::com_ptr<IWICBitmapFrameEncode> frame;
        mf::com_ptr<IPropertyBag2> properties;
        const std::wstring wide = widen(path);
        const UINT stride = p.width * 3;
        std::vector<BYTE> bgr(std::size_t{stride} * p.height);
        for (std::size_t i = 0; i < std::size_t{p.width} * p.height; ++i) {
            std::memcpy(&bgr[i * 3], &p.bgra[i * 4], 3);
        }
        WICPixelFormatGUID format = GUID_WICPixelFormat24bppBGR;
        const char* step = "CoCreateInstance(CLSID_WICImagingFactory)";
        HRESULT hr = ::CoCreateInstance(CLSID_WICImagingFactory, nullptr, CLSCTX_INPROC_SERVER,
                                        __uuidof(IWICImagingFactory), factory.put_void());
        if (SUCCEEDED(hr)) hr = (step = "CreateStream", factory->CreateStream(stream.put()));
        if (SUCCEEDED(hr)) hr = (step = "InitializeFromFilename", stream->InitializeFromFilename(wide.c_str(), GENERIC_WRITE));
        if (SUCCEEDED(hr)) hr = (step = "CreateEncoder", factory->CreateEncoder(*container, nullptr, encoder.put()));
        if (SUCCEEDED(hr)) hr = (step = "IWICBitmapEncoder::Initialize", encoder->Initialize(stream.get(), WICBitmapEncoderNoCache));
        if (SUCCEEDED(hr)) hr = (step = "CreateNewFrame", encoder->CreateNewFrame(frame.put(), properties.put()));
        if (SUCCEEDED(hr)) hr = (step = "IWICBitmapFrameEncode::Initialize", frame->Initialize(properties.get()));
        if (SUCCEEDED(hr)) hr = (step = "SetSize", frame->SetSize(p.width, p.height));
        if (SUCCEEDED(hr)) hr = (step = "SetPixelFormat", frame->SetPixelFormat(&format));
        if (SUCCEEDED(hr) && format != GUID_WICPixelFormat24bppBGR) {
            step = "SetPixelFormat (the encoder wants another format)";
            hr = E_FAIL;
        }
        if (SUCCEEDED(hr)) hr = (step = "WritePixels", frame->WritePixels(p.height, stride, static_cast<UINT>(bgr.size()), bgr.data()));
        if (SUCCEEDED(hr)) hr = (step = "IWICBitmapFrameEncode::Commit", frame->Commit());
        if (SUCCEEDED(hr)) hr = (step = "IWICBitmapEncoder::Commit", encoder->Commit());
        if (FAILED(hr)) {
            error = std::string("WIC ") + step + " failed with " + mf::hresult_text(hr) + " for " + path;
        }
    }
    if (SUCCEEDED(com)) {
        ::CoUninitialize();
    }
    return error;
}

// A window that shows the latest picture scaled to its client area, with a title the caller
// sets. One per process; run it on the thread that created it.
class picture_window {
public:
    bool create(const std::wstring& title, std::uint32_t width, std::uint32_t height)
    {
        const HINSTANCE instance = ::GetModuleHandleW(nullptr);
        WNDCLASSEXW wc{};
        wc.cbSize = sizeof wc;
        wc.lpfnWndProc = &picture_window::window_proc;
        wc.hInstance = instance;
        wc.hCursor = ::LoadCursorW(nullptr, reinterpret_cast<LPCWSTR>(IDC_ARROW));
        wc.hbrBackground = static_cast<HBRUSH>(::GetStockObject(BLACK_BRUSH));
        wc.lpszClassName = L"winmmf_frame_viewer";
        ::RegisterClassExW(&wc);
        RECT r{0, 0, static_cast<LONG>(width), static_cast<LONG>(height)};
        const DWORD style = WS_OVERLAPPEDWINDOW;
        ::AdjustWindowRectEx(&r, style, FALSE, 0);
        hwnd_ = ::CreateWindowExW(0, wc.lpszClassName, title.c_str(), style, 0, 0, r.right - r.left, r.bottom - r.top,
                                  nullptr, nullptr, instance, this);
        if (hwnd_ == nullptr) {
            return false;
        }
        ::ShowWindow(hwnd_, SW_SHOWNORMAL);
        ::UpdateWindow(hwnd_);
        return true;
    }

    HWND handle() const noexcept { return hwnd_; }
    bool closed() const noexcept { return closed_; }

    // From any thread: the next picture to paint.
    void show(picture p)
    {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            latest_ = std::move(p);
        }
        ::InvalidateRect(hwnd_, nullptr, FALSE);
    }

    void set_title(const std::wstring& title) { ::SetWindowTextW(hwnd_, title.c_str()); }

    // The client area in screen coordinates.
    RECT client_on_screen() const
    {
        RECT r{};
        ::GetClientRect(hwnd_, &r);
        POINT origin{0, 0};
        ::ClientToScreen(hwnd_, &origin);
        return {origin.x, origin.y, origin.x + r.right, origin.y + r.bottom};
    }

private:
    static LRESULT CALLBACK window_proc(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam)
    {
        if (message == WM_NCCREATE) {
            const auto* cs = reinterpret_cast<const CREATESTRUCTW*>(lparam);
            ::SetWindowLongPtrW(hwnd, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(cs->lpCreateParams));
        }
        auto* self = reinterpret_cast<picture_window*>(::GetWindowLongPtrW(hwnd, GWLP_USERDATA));
        if (self != nullptr) {
            switch (message) {
            case WM_PAINT:
                self->paint(hwnd);
                return 0;
            case WM_ERASEBKGND:
                return 1; // paint() covers the whole client area
            case WM_CLOSE:
                self->closed_ = true;
                ::DestroyWindow(hwnd);
                return 0;
            default:
                break;
            }
        }
        return ::DefWindowProcW(hwnd, message, wparam, lparam);
    }

    void paint(HWND hwnd)
    {
        PAINTSTRUCT ps;
        const HDC dc = ::BeginPaint(hwnd, &ps);
        RECT client{};
        ::GetClientRect(hwnd, &client);
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (latest_.width != 0) {
                BITMAPINFO info{};
                info.bmiHeader.biSize = sizeof info.bmiHeader;
                info.bmiHeader.biWidth = static_cast<LONG>(latest_.width);
                info.bmiHeader.biHeight = -static_cast<LONG>(latest_.height); // top-down
                info.bmiHeader.biPlanes = 1;
                info.bmiHeader.biBitCount = 32;
                info.bmiHeader.biCompression = BI_RGB;
                ::SetStretchBltMode(dc, HALFTONE);
                ::StretchDIBits(dc, 0, 0, client.right, client.bottom, 0, 0, static_cast<int>(latest_.width),
                                static_cast<int>(latest_.height), latest_.bgra.data(), &info, DIB_RGB_COLORS, SRCCOPY);
            } else {
                ::FillRect(dc, &client, static_cast<HBRUSH>(::GetStockObject(BLACK_BRUSH)));
            }
        }
        ::EndPaint(hwnd, &ps);
    }

    HWND hwnd_ = nullptr;
    bool closed_ = false;
    std::mutex mutex_;
    picture latest_;
};

} // namespace frame_service
